"""npl-assets: Yindeng NPL disclosures as a data product."""
