//! What an uploaded image is of.
use crate::domain::codes::code_enum;

code_enum!(
    /// The document an image shows.
    ImageKind {
        /// The signed order itself (the authoritative record).
        Order => "order",
        /// Proof of service.
        ProofOfService => "proof_of_service",
        /// Any other attachment (declarations, special conditions pages).
        Attachment => "attachment",
        /// The court order terminating the order.
        TerminatingOrder => "terminating_order",
    }
);
