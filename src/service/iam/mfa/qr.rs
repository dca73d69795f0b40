//! The QR code PNG of a new virtual MFA device.
//!
//! Owns: [`png`], which renders text (the `otpauth://` URI) as a QR code
//! (error correction level M, the smallest version that fits) in a 1-bit
//! grayscale PNG: [`SCALE`] pixels per module and the four-module quiet
//! zone the QR standard asks for. The image encodes the seed, so the
//! buffers this module owns are zeroized; the `qrcode` and `png` crates'
//! internal buffers are not, which is why nothing here is cached. May
//! import `qrcode`, `png`, `zeroize` and `service::error`.
//! Spec: ISO/IEC 18004 (QR), the PNG specification.

use qrcode::{Color, EcLevel, QrCode};
use zeroize::Zeroizing;

use crate::service::error::ServiceError;

/// Pixels per module side.
pub(crate) const SCALE: usize = 4;

/// Light modules around the symbol, per side.
pub(crate) const QUIET_ZONE: usize = 4;

/// `text` as a QR code PNG.
///
/// # Errors
///
/// `InternalFailure` when the text does not fit a QR code (it always does
/// for a URI of IAM-sized names) or the encoder fails.
pub(crate) fn png(text: &str) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| ServiceError::internal(format!("qr code: {e}")))?;
    let modules = code.width();
    // Row by row, true for a dark module.
    let dark: Zeroizing<Vec<bool>> = Zeroizing::new(
        code.into_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect(),
    );
    let side = (modules + 2 * QUIET_ZONE) * SCALE;
    let row_bytes = side.div_ceil(8);
    // 1 is white, 0 black: start white and darken the dark modules.
    let mut pixels = Zeroizing::new(vec![0xff_u8; row_bytes * side]);
    for (i, _) in dark.iter().enumerate().filter(|(_, d)| **d) {
        let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for y in my * SCALE..(my + 1) * SCALE {
            for x in mx * SCALE..(mx + 1) * SCALE {
                if let Some(byte) = pixels.get_mut(y * row_bytes + x / 8) {
                    *byte &= !(0x80_u8 >> (x % 8));
                }
            }
        }
    }
    encode(&pixels, side)
}

/// A 1-bit grayscale PNG of `side`×`side` pixels, rows packed MSB first.
fn encode(pixels: &[u8], side: usize) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    let fail = |e: png::EncodingError| ServiceError::internal(format!("qr code png: {e}"));
    let side = u32::try_from(side).map_err(ServiceError::internal)?;
    let mut out = Zeroizing::new(Vec::new());
    {
        let mut encoder = png::Encoder::new(&mut *out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder.write_header().map_err(fail)?;
        writer.write_image_data(pixels).map_err(fail)?;
        writer.finish().map_err(fail)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `bytes` to (side, one luma byte per pixel).
    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    #[test]
    fn renders_a_square_png_with_finder_patterns() {
        let uri = "otpauth://totp/stsd:phone@123456789012?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=stsd";
        let bytes = png(uri).unwrap();
        assert_eq!(bytes.get(..8).unwrap(), b"\x89PNG\r\n\x1a\n");
        let (w, h, luma) = decode(&bytes);
        assert_eq!(w, h, "square");
        let side = usize::try_from(w).unwrap();
        assert_eq!(side % SCALE, 0);
        let modules = side / SCALE - 2 * QUIET_ZONE;
        assert!(
            modules >= 21 && (modules - 21).is_multiple_of(4),
            "{modules}"
        );
        let module = |mx: usize, my: usize| {
            let (x, y) = ((mx + QUIET_ZONE) * SCALE, (my + QUIET_ZONE) * SCALE);
            luma[y * side + x] == 0
        };
        // Quiet zone is light, and each corner but the bottom-right holds
        // a finder pattern: a dark 7x7 ring, a light ring, a dark 3x3 core.
        assert!(luma[..side * QUIET_ZONE * SCALE].iter().all(|p| *p == 255));
        for (ox, oy) in [(0, 0), (modules - 7, 0), (0, modules - 7)] {
            for i in 0..7 {
                assert!(module(ox + i, oy) && module(ox + i, oy + 6));
                assert!(module(ox, oy + i) && module(ox + 6, oy + i));
            }
            assert!(!module(ox + 1, oy + 1) && !module(ox + 5, oy + 5));
            assert!(module(ox + 2, oy + 2) && module(ox + 4, oy + 4));
        }
    }

    #[test]
    fn longer_text_makes_a_larger_code() {
        let short = decode(&png("otpauth://totp/a").unwrap()).0;
        let long = decode(&png(&"x".repeat(300)).unwrap()).0;
        assert!(long > short);
    }
}
