"""Demo mode for newcomers: ``cadency demo`` (``make demo``).

It starts the loopback Postfix + Dovecot of the test suite, seeds a rep, a few
contacts and a sequence, enrolls them and runs Cadency with ``CADENCY_DEMO=1``,
which puts "Reply as this contact" / "Send an out-of-office as this contact"
buttons on each contact record: they send real mail to the rep's inbox.
"""
