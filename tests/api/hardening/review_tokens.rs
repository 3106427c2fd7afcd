//! Outside review (issue 22): tokens and client-supplied strings (items 1, 2, 3, 9, 13, 16, 18).
