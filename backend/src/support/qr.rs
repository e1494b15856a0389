//! QR codes drawn on the server as SVG (they work without JavaScript):
//! a booking's code, a patrol checkpoint's sheet, a volunteer check-in, a
//! payment's cashier link.

use crate::error::{AppError, AppResult};

/// The SVG of a QR code for `text`.
pub fn qr_svg(text: &str) -> AppResult<String> {
    use qrcode::{render::svg, EcLevel, QrCode};
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(AppError::internal)?;
    Ok(code
        .render::<svg::Color>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .dark_color(svg::Color("#000"))
        .light_color(svg::Color("#fff"))
        .build())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_qr_code_is_an_svg() {
        let svg = super::qr_svg("https://example/staff/appointments/check?code=ABCDEFGH").unwrap();
        assert!(svg.contains("<svg") && svg.contains("#000"));
    }
}
