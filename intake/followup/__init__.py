"""Follow-up: a reporter presents the receipt and sees status and messages."""
