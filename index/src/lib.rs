//! Person-name search index (being built).
