-- 005: the station registry. Stations submit readings over HTTP with a per-station key; partner
-- fleets submit bulk with a partner token for the stations they own. Keys and tokens are stored
-- only as slow salted hashes (scrypt, parameters inside the stored string), never in clear.
--   name, external_id   what the owner calls the station (external_id: its id in another network)
--   owner_partner       the partner whose token may write for the station (NULL: none)
--   registered_at       set for stations registered through the registry (NULL: seen on the bus only)
--   disabled_at         a disabled station's submissions are refused; its readings stay
--   ecowitt_passkey     the PASSKEY of the Ecowitt console bound to the station on its first upload
ALTER TABLE sensors ADD COLUMN name TEXT;
ALTER TABLE sensors ADD COLUMN external_id TEXT;
ALTER TABLE sensors ADD COLUMN owner_partner TEXT;
ALTER TABLE sensors ADD COLUMN registered_at TIMESTAMPTZ;
ALTER TABLE sensors ADD COLUMN disabled_at TIMESTAMPTZ;
ALTER TABLE sensors ADD COLUMN ecowitt_passkey TEXT;
CREATE INDEX sensors_owner_partner ON sensors (owner_partner) WHERE owner_partner IS NOT NULL;

-- Partners: fleets that submit many stations' readings in bulk, with an admin-issued token.
CREATE TABLE partners (
  partner_id   TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  token_hash   TEXT NOT NULL,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  disabled_at  TIMESTAMPTZ
);
