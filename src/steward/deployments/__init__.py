"""Deployments: named endpoints in an environment routing to model versions."""
