//! SASL: mechanism policy, SCRAM and PLAIN clients.
