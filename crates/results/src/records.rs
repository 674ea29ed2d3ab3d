//! How an image's record and its scores are kept on disk (see [`ontosweep_records`]).

use ontosweep_records::Record;
use ontosweep_records::bytes::{Reader, put_str, put_u32, put_u64};

use crate::{ByteRange, ImageRecord, ImageScores, PlanarRgb, TOP_K, TopClasses};

impl ByteRange {
    /// Appends `member` (or its absence) to a record's bytes.
    pub fn put(out: &mut Vec<u8>, member: Option<ByteRange>) {
        match member {
            None => out.push(0),
            Some(m) => {
                out.push(1);
                put_u64(out, m.offset);
                put_u64(out, m.size);
                out.push(u8::from(m.pixels.is_some()));
                let (width, height) = m.pixels.map_or((0, 0), |p| (p.width, p.height));
                put_u32(out, width);
                put_u32(out, height);
            }
        }
    }

    /// What [`ByteRange::put`] wrote; `None` when the bytes are not that.
    pub fn take(r: &mut Reader) -> Option<Option<ByteRange>> {
        if r.u8()? == 0 {
            return Some(None);
        }
        let (offset, size) = (r.u64()?, r.u64()?);
        let planar = r.u8()? == 1;
        let (width, height) = (r.u32()?, r.u32()?);
        Some(Some(ByteRange {
            offset,
            size,
            pixels: planar.then_some(PlanarRgb { width, height }),
        }))
    }
}

impl Record for ImageRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        put_str(out, &self.path);
        put_str(out, &self.source);
        put_u64(out, self.label as u64);
        ByteRange::put(out, self.member);
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        let path = r.str()?.to_string();
        let source = r.str()?.to_string();
        let label = usize::try_from(r.u64()?).ok()?;
        let member = ByteRange::take(&mut r)?;
        r.done().then_some(ImageRecord {
            path,
            source,
            label,
            member,
        })
    }
}

/// Top classes (count, then each class and probability), the true class's probability and
/// its rank.
const SCORES_SIZE: usize = 1 + TOP_K * 8 + 4 + 8;

impl Record for ImageScores {
    const SIZE: Option<usize> = Some(SCORES_SIZE);

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.top.len() as u8);
        for k in 0..TOP_K {
            let (class, p) = self.top.get(k).unwrap_or((0, 0.0));
            put_u32(out, class as u32);
            out.extend_from_slice(&p.to_le_bytes());
        }
        out.extend_from_slice(&self.true_probability.to_le_bytes());
        put_u64(out, self.true_rank as u64);
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        let len = usize::from(r.u8()?);
        let mut pairs = Vec::with_capacity(TOP_K);
        for _ in 0..TOP_K {
            pairs.push((r.u32()? as usize, r.f32()?));
        }
        let top: TopClasses = pairs.into_iter().take(len).collect();
        let true_probability = r.f32()?;
        let true_rank = usize::try_from(r.u64()?).ok()?;
        (r.done() && len <= TOP_K).then_some(ImageScores {
            top,
            true_probability,
            true_rank,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ontosweep_records::Records;

    #[test]
    fn records_and_scores_read_back_bit_for_bit() {
        let images = vec![
            ImageRecord {
                path: "daisy/a b.jpg".into(),
                source: "/data/daisy/a b.jpg".into(),
                label: 1,
                member: None,
            },
            ImageRecord {
                path: "data_batch_1/00003".into(),
                source: "/data/data_batch_1".into(),
                label: 999,
                member: Some(ByteRange {
                    offset: 9216,
                    size: 3072,
                    pixels: Some(PlanarRgb {
                        width: 32,
                        height: 32,
                    }),
                }),
            },
        ];
        assert_eq!(
            Records::write_all(&images).unwrap().to_vec().unwrap(),
            images
        );
        let scores = vec![
            ImageScores {
                top: [(3, 0.5), (0, f32::MIN_POSITIVE)].into_iter().collect(),
                true_probability: -0.0,
                true_rank: 2,
            },
            ImageScores {
                top: (0..7).map(|c| (c, 1.0 / (c + 1) as f32)).collect(),
                true_probability: f32::NAN,
                true_rank: 1000,
            },
        ];
        let back = Records::write_all(&scores).unwrap().to_vec().unwrap();
        assert_eq!(back[0], scores[0]);
        assert_eq!(back[1].top, scores[1].top);
        assert!(back[1].true_probability.is_nan() && back[1].true_rank == 1000);
        assert_eq!(back[0].true_probability.to_bits(), (-0.0f32).to_bits());
    }
}
