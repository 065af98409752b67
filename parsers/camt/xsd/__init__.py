"""The official ISO 20022 schemas (camt.052/053/054), shipped as package data for `validate`."""
