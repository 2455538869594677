"""`intake worker`: drains the outbox and watches deadlines (docs/worker.md).

claim.py       leases on outbox rows (SKIP LOCKED), backoff, outcomes
delivery.py    DeliveryError: short content-free codes, retryable or not
notify.py      "notify": mail (SMTP) and https:// webhooks for focal points
twilio_kinds.py "sms_reply" and "twilio_redact" through the real twilio Client
twilio_client.py the Client, optionally rebased to INTAKE_TWILIO_API_BASE
overdue.py     marks overdue cases and queues the coordinator's alert
housekeeping.py purges expired rate counters and SMS state
run.py         Worker: one pass, or passes until stopped
"""
