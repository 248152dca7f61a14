"""The scenarios of `make reliability`; each returns a result with its counts and `problems`
(empty: the platform behaved)."""
