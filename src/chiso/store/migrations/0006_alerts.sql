-- Alerts (cảnh báo hạn giải quyết, `chiso alerts`): every delivery made, so that a second run on the same day
-- does not send again (idempotent per unit, channel, recipient and day) unless --force. recipient: an e-mail
-- address, or for the webhook its scheme and host with a hash of the full URL (a webhook URL may hold a token).
CREATE TABLE alert_deliveries (
    day       DATE NOT NULL,
    unit_code TEXT NOT NULL,
    channel   TEXT NOT NULL,
    recipient TEXT NOT NULL,
    as_of     TIMESTAMP NOT NULL,
    sent_at   TIMESTAMP NOT NULL,
    due_soon  BIGINT NOT NULL,
    overdue   BIGINT NOT NULL,
    PRIMARY KEY (day, unit_code, channel, recipient)
);
