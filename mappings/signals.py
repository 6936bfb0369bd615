"""What other packages may listen to: mappings that can release held orders changed.

Sent by `mapping_save` and every CSV import that wrote rows, inside their
transaction; a receiver that queues work does it on commit. The orders
package listens (it re-checks the held orders these mappings can release):
mappings never call it, it sits above them.
"""

from django.dispatch import Signal

# kwargs: kind ("sku" or "shipping_method"), store_ids (set[int]),
# marketplace_ids (set[int]: the stores selling there are concerned).
release_mappings_changed = Signal()
