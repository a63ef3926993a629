"""The customer pages, one module per screen: the list, the card, the edit forms and the
recycle bin, contacts, custom field definitions.

Customer data is read only through `selectors` (which start from the scoping gate), and
every write goes through `services`; an out-of-scope customer is a 404 exactly like a
missing one, a read-only viewer gets 403.
"""
