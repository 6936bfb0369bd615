"""Writes of the fulfillment domain: one module per flow, keyword-only functions."""
