"""The two spiders, `listings` (转让公告) and `results` (转让结果公告); see base.py."""
