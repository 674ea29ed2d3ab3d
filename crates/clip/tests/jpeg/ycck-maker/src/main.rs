//! An Adobe YCCK JPEG (libjpeg's CMYK → YCCK transform, Adobe marker with transform 2) of a
//! 61×37 scene with gradients, edges and noise, written to `../libjpeg_ycck.jpg`.

fn main() {
    let (width, height) = (61usize, 37usize);
    let mut state = 0x2545_f491_u32;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state >> 24) as usize
    };
    let mut cmyk = Vec::with_capacity(width * height * 4);
    for y in 0..height {
        for x in 0..width {
            let edge = if (x / 5 + y / 3) % 2 == 1 { 255 } else { 0 };
            cmyk.push((x * 255 / (width - 1) + noise() % 41) as u8);
            cmyk.push(((y * 255 / (height - 1) + edge) / 2) as u8);
            cmyk.push(((edge + noise()) / 2) as u8);
            cmyk.push((noise() / 2 + y * 2) as u8);
        }
    }
    let mut compress = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_CMYK);
    compress.set_color_space(mozjpeg::ColorSpace::JCS_YCCK);
    compress.set_size(width, height);
    compress.set_quality(85.0);
    let mut started = compress.start_compress(Vec::new()).expect("start");
    started.write_scanlines(&cmyk).expect("scanlines");
    let jpeg = started.finish().expect("finish");
    std::fs::write("../libjpeg_ycck.jpg", jpeg).expect("write ../libjpeg_ycck.jpg");
}
