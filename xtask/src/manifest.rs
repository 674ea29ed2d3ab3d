//! `MANIFEST.json` beside a provisioned ONNX Runtime: which pinned wheel it came from and
//! the sha256 of every library unpacked from it, re-checked each time xtask hands the
//! runtime over. Written and read by hand (xtask has no dependencies): a flat JSON object of
//! strings, with one nested object of strings, `files`.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `onnxruntime` or `onnxruntime-gpu`.
    pub package: String,
    pub version: String,
    /// The wheel's file name, as pinned in `pins.rs`.
    pub wheel: String,
    pub wheel_sha256: String,
    /// File name (in the manifest's folder) → sha256, lowercase hex.
    pub files: BTreeMap<String, String>,
}

impl Manifest {
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\n");
        for (key, value) in [
            ("package", &self.package),
            ("version", &self.version),
            ("wheel", &self.wheel),
            ("wheel_sha256", &self.wheel_sha256),
        ] {
            out.push_str(&format!("  {}: {},\n", quote(key), quote(value)));
        }
        out.push_str("  \"files\": {");
        for (i, (name, sha256)) in self.files.iter().enumerate() {
            let comma = if i == 0 { "" } else { "," };
            out.push_str(&format!("{comma}\n    {}: {}", quote(name), quote(sha256)));
        }
        if !self.files.is_empty() {
            out.push_str("\n  ");
        }
        out.push_str("}\n}\n");
        out
    }

    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut parser = Parser {
            text: text.as_bytes(),
            at: 0,
        };
        let top = parser.object(0)?;
        parser.skip_space();
        if parser.at != parser.text.len() {
            return Err(parser.error("unexpected text after the object"));
        }
        let mut top = top;
        let mut string = |key: &str| match top.remove(key) {
            Some(Value::Str(s)) => Ok(s),
            Some(Value::Obj(_)) => Err(format!("`{key}` is not a string")),
            None => Err(format!("`{key}` is missing")),
        };
        let package = string("package")?;
        let version = string("version")?;
        let wheel = string("wheel")?;
        let wheel_sha256 = string("wheel_sha256")?;
        let files = match top.remove("files") {
            Some(Value::Obj(files)) => files
                .into_iter()
                .map(|(name, value)| match value {
                    Value::Str(sha256) => Ok((name, sha256)),
                    Value::Obj(_) => Err(format!("`files.{name}` is not a string")),
                })
                .collect::<Result<BTreeMap<_, _>, _>>()?,
            Some(Value::Str(_)) => return Err("`files` is not an object".into()),
            None => return Err("`files` is missing".into()),
        };
        if let Some(key) = top.keys().next() {
            return Err(format!("unknown field `{key}`"));
        }
        Ok(Manifest {
            package,
            version,
            wheel,
            wheel_sha256,
            files,
        })
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

enum Value {
    Str(String),
    Obj(BTreeMap<String, Value>),
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.at)
    }

    fn skip_space(&mut self) {
        while self
            .text
            .get(self.at)
            .is_some_and(|b| b" \t\r\n".contains(b))
        {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        self.skip_space();
        if self.text.get(self.at) == Some(&byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected `{}`", byte as char)))
        }
    }

    fn object(&mut self, depth: usize) -> Result<BTreeMap<String, Value>, String> {
        if depth > 1 {
            return Err(self.error("objects nested too deep"));
        }
        self.expect(b'{')?;
        let mut members = BTreeMap::new();
        self.skip_space();
        if self.text.get(self.at) == Some(&b'}') {
            self.at += 1;
            return Ok(members);
        }
        loop {
            self.skip_space();
            let key = self.string()?;
            self.expect(b':')?;
            self.skip_space();
            let value = match self.text.get(self.at) {
                Some(b'"') => Value::Str(self.string()?),
                Some(b'{') => Value::Obj(self.object(depth + 1)?),
                _ => return Err(self.error("expected a string or an object")),
            };
            if members.insert(key.clone(), value).is_some() {
                return Err(self.error(&format!("duplicate key `{key}`")));
            }
            self.skip_space();
            match self.text.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(members);
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            let Some(&byte) = self.text.get(self.at) else {
                return Err(self.error("unterminated string"));
            };
            self.at += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let Some(&escape) = self.text.get(self.at) else {
                        return Err(self.error("unterminated string"));
                    };
                    self.at += 1;
                    let c = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.error("unknown escape")),
                    };
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                b if b < 0x20 => return Err(self.error("control character in a string")),
                b => out.push(b),
            }
        }
        String::from_utf8(out).map_err(|_| self.error("a string is not UTF-8"))
    }

    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if self.text.get(self.at..self.at + 2) != Some(b"\\u") {
                return Err(self.error("unpaired surrogate"));
            }
            self.at += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("unpaired surrogate"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok())
            .ok_or_else(|| self.error("expected four hex digits"))?;
        self.at += 4;
        Ok(digits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            package: "onnxruntime".into(),
            version: "1.31.1".into(),
            wheel: "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl".into(),
            wheel_sha256: "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f".into(),
            files: BTreeMap::from([
                ("libonnxruntime.so.1.31.1".into(), "a".repeat(64)),
                ("libonnxruntime_providers_shared.so".into(), "b".repeat(64)),
            ]),
        }
    }

    #[test]
    fn the_manifest_round_trips() {
        let manifest = sample();
        assert_eq!(Manifest::parse(&manifest.to_json()).unwrap(), manifest);
        let mut odd = sample();
        odd.files = BTreeMap::from([(
            "quote \" back\\slash\nnew\tline \u{1} é 日本 🦀".into(),
            "c".repeat(64),
        )]);
        assert_eq!(Manifest::parse(&odd.to_json()).unwrap(), odd);
        let mut empty = sample();
        empty.files.clear();
        assert_eq!(Manifest::parse(&empty.to_json()).unwrap(), empty);
    }

    #[test]
    fn json_escapes_written_by_others_are_read() {
        let text = r#"{"package":"onnx\u0072untime","version":"1.31.1","wheel":"w\/x","wheel_sha256":"\ud83e\udd80","files":{}}"#;
        let manifest = Manifest::parse(text).unwrap();
        assert_eq!(manifest.package, "onnxruntime");
        assert_eq!(manifest.wheel, "w/x");
        assert_eq!(manifest.wheel_sha256, "🦀");
    }

    #[test]
    fn malformed_manifests_are_refused() {
        let good = sample().to_json();
        // Cut just after `"files"`: the parser stops where the `:` should be, and says where.
        let half = good.len() / 2;
        assert!(good[..half].ends_with("\"files\""), "{:?}", &good[..half]);
        let cut_short = format!("expected `:` at byte {half}");
        for (bad, says) in [
            ("VERIFIED onnxruntime==1.31.1\n".to_string(), "expected `{`"),
            (
                good.replace("\"wheel\":", "\"wheels\":"),
                "`wheel` is missing",
            ),
            (good.clone() + "{}", "unexpected text"),
            (good.replace("}\n}", "}"), "expected `,` or `}`"),
            (
                good.replacen("\"version\": \"1.31.1\"", "\"version\": {}", 1),
                "`version` is not a string",
            ),
            (
                good.replacen("{\n", "{\n  \"extra\": \"x\",\n", 1),
                "unknown field `extra`",
            ),
            (
                good.replacen("{\n", "{\n  \"package\": \"x\",\n", 1),
                "duplicate key `package`",
            ),
            (
                good.replace("\"files\": {", "\"files\": {\"x\": {}, "),
                "nested too deep",
            ),
            (good[..half].to_string(), cut_short.as_str()),
        ] {
            let error = Manifest::parse(&bad).expect_err(&bad);
            assert!(error.contains(says), "{error:?} lacks {says:?}");
        }
    }
}
