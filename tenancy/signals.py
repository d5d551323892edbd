"""Tenancy events for higher apps. Sent only by tenancy.services, inside the service's transaction.

contract_started    organization, contract, previous_package (None for the first contract)
"""

from django.dispatch import Signal

contract_started = Signal()
