-- Telegram polling: the next update to ask for, per bot, kept once the updates before it have
-- become runs (so a restart neither loses nor repeats one).
CREATE TABLE telegram_offsets (
    bot_id      BIGINT      PRIMARY KEY,
    next_offset BIGINT      NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
