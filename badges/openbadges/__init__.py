"""Open Badges 3.0 Data Integrity (eddsa-rdfc-2022) signing, with no Django dependency."""
