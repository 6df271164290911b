//! The HTTP client side: hyper, rustls, connection policy.
