"""The simulator's SOAP 1.2 facade, shaped after the national "blueprint" interface (issue 6).

``facade.SOAPFacade`` / ``facade.with_soap`` (the ASGI application), ``messages`` (hardened parsing,
XSD validation, responses), ``wsdl/`` (the published WSDL and XSD), ``testing.running_soap_simulator``
(a mutual-TLS simulator with the facade, for tests).
"""
