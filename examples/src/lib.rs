//! Programs that show ipsec-rs at work live beside this file as cargo examples.
