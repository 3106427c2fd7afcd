//! Outside review (issue 22): narrowed scope, documents and statistics (items 4, 5, 7, 8, 10, 15).
