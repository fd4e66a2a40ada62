"""The front desk: kiosk tablets paired with a center, their board of the day, check-in and check-out by the
session's code, and who hands the person over (see respite.kiosk.services)."""
