"""The commands that change data run only in the mode their deployment serves (``products.write.deployment``).

A single-database process projects inside each command's transaction and a split one leaves it
to the worker: run in the other mode, an import or an expiry would leave the read store the API
processes serve without its changes, so such a command stops first and says what to change.
"""

from django.core.management.base import CommandError

from products.write import deployment


def require_the_deployments_mode():
    """Raise ``CommandError`` naming the setting to change when this process disagrees with its deployment."""
    try:
        deployment.check()
    except deployment.ModeMismatch as mismatch:
        raise CommandError(str(mismatch)) from None
