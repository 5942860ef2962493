"""Promotion approvals (G1, G12): four-eyes quorum by risk tier, evidence gates, reviews."""
