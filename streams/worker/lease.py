"""The worker's lease on its partitions, as the group coordinator sees it: what makes a frozen worker harmless.

A worker frozen (GC pause, SIGSTOP, VM freeze) past the consumer group's session timeout is removed from the group
and its partitions go to another worker; thawed, it still believes it owns them, and whatever it sends then (answers
computed from state the new owner has moved past, table states for the changelog) is stale. Kafka's broker fences
such a "zombie" only for transactional producers, so the worker fences itself, from the membership proofs it has:

* The broker keeps a member for ``session_timeout`` after the last heartbeat (or group sync) it *received*; one
  *sent* at ``t`` and answered without error therefore proves membership until at least ``t + session_timeout``.
  :meth:`Lease.valid` is that, less a margin: while it holds nobody else can own the worker's partitions, so a
  write is safe. Past it, writes wait: either a heartbeat of the same membership succeeds (the broker was slow or
  away, not the worker; the writes go out) or the broker says the member is gone, and then the worker exits
  without sending them (:data:`FENCED_EXIT_CODE`); its supervisor restarts it, it rejoins the group and restores
  its state from the changelog, which holds only what owners wrote while they owned it.

Pure: times are passed in (``time.monotonic()`` seconds), so the rules are tested without a clock or a broker; the
hooks into aiokafka that feed it are in :mod:`streams.worker.faust_patches`.
"""

from __future__ import annotations

from dataclasses import dataclass

# os.EX_TEMPFAIL: "try again later"; the supervisor restarts the worker, which rejoins the group as a new member
FENCED_EXIT_CODE = 75
# Below the session timeout: covers the two clocks' drift and the time between our check and the write's arrival.
MARGIN_S = 1.0


@dataclass(slots=True)
class Lease:
    """Until when this process may write as the owner of its partitions (``None``: not in a group yet)."""

    session_timeout: float
    margin: float = MARGIN_S
    renewed_at: float | None = None  # when the last membership proof was sent (monotonic seconds)

    def renew(self, sent_at: float) -> None:
        """A heartbeat or group sync sent at ``sent_at`` was answered: the broker knew this member then."""
        if self.renewed_at is None or sent_at > self.renewed_at:
            self.renewed_at = sent_at

    def valid(self, now: float) -> bool:
        """Whether a write sent at ``now`` cannot be a zombie's: no other member can own the partitions yet."""
        return self.renewed_at is None or now < self.renewed_at + self.session_timeout - self.margin

    def lapsed_for(self, now: float) -> float:
        """Seconds since the lease ran out (0 while valid)."""
        if self.renewed_at is None:
            return 0.0
        return max(0.0, now - (self.renewed_at + self.session_timeout - self.margin))
