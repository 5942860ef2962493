"""Cross-worker state propagation: durable revision counters polled by every worker.

Every change to shared serving state (deployments, keys, aliases) bumps a topic's revision in
the same transaction; each worker polls the small `state_revisions` table and reloads what
changed. That keeps server processes stateless while making changes visible everywhere
within `sync_interval_s` (default 0.2 s), without a message broker.
"""

from steward.sync.service import Revisions, bump

__all__ = ["Revisions", "bump"]
