"""What makes the data visible: volatility replay page, cross-venue discrepancy detector, shell helpers."""
