"""The outbox, SMTP delivery and the French email templates.

Never imports `intake` and never sees personal data: what it is given to say
is numeros, communes, dates and counts.
"""
