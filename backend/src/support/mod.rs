//! What several features need, in one place (issue 22): people's names in
//! the reader's words, the communities a staff member manages, the codes
//! printed on receipts and certificates, QR codes, and the log of looks at
//! personal data, XML for other programs. Beijing time is `domain::time`. A feature uses another
//! feature only through that feature's public service functions; what two
//! features share lives here.

pub mod codes;
pub mod people;
pub mod personal_data;
pub mod qr;
pub mod scope;
pub mod xml;
