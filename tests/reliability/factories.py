"""tests/reliability registers no admin row makers: fulfillment.privacy has no models."""
