"""Alerts: rules on survey answers, operational alerts on points, and their webhook deliveries.

No alert, and no webhook body, holds an email, a person key, a MAC or an address: a response
alert copies only the answers its rule reads (never free text), an operational alert only the
point and the figures that raised it.
"""
