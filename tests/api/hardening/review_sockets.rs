//! Outside review (issue 22): WebSockets, uploads, image links and the audit anchor (items 6, 11, 12, 14, 17).
