//! A minimal, bounded walker for the pickles CIFAR's batches are: a dict of strings, lists
//! of ints and one numpy array, as Python 2's cPickle (protocol 2) or Python 3 (protocols 2
//! to 4) write them. Nothing is executed: a call (`REDUCE`) is kept as the callable's name
//! and its arguments, to be read as data. A long string is not read but kept as where it
//! lies in the file, so the pixels stay on disk. Every growth is bounded and every opcode
//! outside the few such files use is refused by name, so hostile bytes give an error.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

/// Opcodes read before giving up: CIFAR-100's train batch (the largest) takes about 250 000.
const MAX_OPCODES: usize = 2_000_000;
/// Values on the stack at once, and objects remembered in the memo.
const MAX_STACK: usize = 1_000_000;
const MAX_MEMO: usize = 1_000_000;
/// Nested MARKs: CIFAR's pickles nest three deep.
const MAX_MARKS: usize = 64;
/// Strings up to this long are read (names, keys); longer ones are only located.
const KEPT_STRING_BYTES: u64 = 4096;
/// A GLOBAL's module or name.
const MAX_GLOBAL_BYTES: usize = 256;

/// Index of a value in [`Pickle::values`].
pub type Id = usize;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// A string where it lies in the file; its bytes are kept when short.
    Str {
        offset: u64,
        len: u64,
        bytes: Option<Vec<u8>>,
        /// Python 3 `str` (UTF-8 in the file) rather than a byte string.
        text: bool,
    },
    Tuple(Vec<Id>),
    List(Vec<Id>),
    Dict(Vec<(Id, Id)>),
    Global {
        module: String,
        name: String,
    },
    /// `func(*args)`, never called, with the state a BUILD gave it.
    Reduced {
        func: Id,
        args: Id,
        state: Option<Id>,
    },
}

/// Every value the pickle made; `root` is the one it returned.
#[derive(Debug)]
pub struct Pickle {
    pub values: Vec<Value>,
    pub root: Id,
}

impl Pickle {
    pub fn get(&self, id: Id) -> &Value {
        &self.values[id]
    }

    /// The value under string key `key` of the dict `dict`.
    pub fn item(&self, dict: Id, key: &str) -> Option<Id> {
        let Value::Dict(items) = self.get(dict) else {
            return None;
        };
        items.iter().find_map(|&(k, v)| match self.get(k) {
            Value::Str { bytes: Some(b), .. } if b == key.as_bytes() => Some(v),
            _ => None,
        })
    }

    /// What a value is, for a message.
    pub fn describe(&self, id: Id) -> String {
        match self.get(id) {
            Value::None => "None".into(),
            Value::Bool(b) => format!("the bool {b}"),
            Value::Int(i) => format!("the int {i}"),
            Value::Str {
                len, text: true, ..
            } => format!("a text string of {len} bytes"),
            Value::Str { len, .. } => format!("a byte string of {len} bytes"),
            Value::Tuple(items) => format!("a tuple of {}", items.len()),
            Value::List(items) => format!("a list of {}", items.len()),
            Value::Dict(items) => format!("a dict of {} items", items.len()),
            Value::Global { module, name } => format!("`{module}.{name}`"),
            Value::Reduced { func, .. } => format!("a call to {}", self.describe(*func)),
        }
    }
}

/// Parses the pickle that `source` holds from its start; `len` is its size in bytes. The
/// error says what is wrong and at which byte.
pub fn parse<R: Read + Seek>(source: R, len: u64) -> Result<Pickle, String> {
    let mut machine = Machine {
        input: Input { source, at: 0, len },
        values: Vec::new(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
    };
    for _ in 0..MAX_OPCODES {
        let at = machine.input.at;
        let code = machine.input.byte()?;
        match machine.step(code) {
            Ok(()) => {}
            Err(Stop::Done(root)) => {
                return Ok(Pickle {
                    values: machine.values,
                    root,
                });
            }
            Err(Stop::Error(message)) => {
                return Err(format!("{} at byte {at}: {message}", name(code)));
            }
            Err(Stop::Unknown) => {
                return Err(format!(
                    "{} at byte {at} is not one CIFAR batches use: this is not a CIFAR batch as torchvision downloads it (download it again)",
                    name(code)
                ));
            }
        }
    }
    Err(format!(
        "more than {MAX_OPCODES} opcodes: far more than any CIFAR batch holds"
    ))
}

/// Why a step ends the walk: the pickle's value, an error, or an opcode not walked.
enum Stop {
    Done(Id),
    Error(String),
    Unknown,
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Stop::Error(message)
    }
}

/// The file, read forward, with where it is.
struct Input<R> {
    source: R,
    at: u64,
    len: u64,
}

impl<R: Read + Seek> Input<R> {
    fn ensure(&self, n: u64) -> Result<(), String> {
        match self.at.checked_add(n) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(format!(
                "the file ends at byte {} before the pickle does: it is truncated (an interrupted download?); download it again",
                self.len
            )),
        }
    }

    fn bytes(&mut self, n: usize) -> Result<Vec<u8>, String> {
        self.ensure(n as u64)?;
        let mut bytes = vec![0; n];
        self.source
            .read_exact(&mut bytes)
            .map_err(|e| format!("cannot read byte {}: {e}", self.at))?;
        self.at += n as u64;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.bytes(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        Ok(self.bytes(N)?.try_into().expect("N bytes read"))
    }

    fn skip(&mut self, n: u64) -> Result<(), String> {
        self.ensure(n)?;
        let by = i64::try_from(n).map_err(|_| format!("cannot skip {n} bytes"))?;
        self.source
            .seek(SeekFrom::Current(by))
            .map_err(|e| format!("cannot skip to byte {}: {e}", self.at + n))?;
        self.at += n;
        Ok(())
    }

    /// A GLOBAL's line, without its newline.
    fn line(&mut self) -> Result<String, String> {
        let mut line = Vec::new();
        loop {
            match self.byte()? {
                b'\n' => break,
                byte if line.len() < MAX_GLOBAL_BYTES => line.push(byte),
                _ => return Err(format!("a name longer than {MAX_GLOBAL_BYTES} bytes")),
            }
        }
        String::from_utf8(line).map_err(|_| "a name that is not UTF-8".into())
    }
}

struct Machine<R> {
    input: Input<R>,
    values: Vec<Value>,
    stack: Vec<Id>,
    /// Stack lengths at each open MARK.
    marks: Vec<usize>,
    memo: HashMap<u64, Id>,
}

impl<R: Read + Seek> Machine<R> {
    fn step(&mut self, code: u8) -> Result<(), Stop> {
        match code {
            // PROTO's version; FRAME's length (frames are read as one stream).
            0x80 => {
                self.input.byte()?;
            }
            0x95 => {
                self.input.array::<8>()?;
            }
            b'.' => return Err(self.stop()),
            b'(' => self.mark()?,
            b'N' => self.push(Value::None)?,
            0x88 => self.push(Value::Bool(true))?,
            0x89 => self.push(Value::Bool(false))?,
            b'K' => {
                let value = self.input.byte()?;
                self.int(i64::from(value))?;
            }
            b'M' => {
                let value = u16::from_le_bytes(self.input.array()?);
                self.int(i64::from(value))?;
            }
            b'J' => {
                let value = i32::from_le_bytes(self.input.array()?);
                self.int(i64::from(value))?;
            }
            0x8a => self.long1()?,
            b'U' | b'C' | 0x8c => {
                let n = u64::from(self.input.byte()?);
                self.string(n, code == 0x8c)?;
            }
            b'T' => {
                let n = i32::from_le_bytes(self.input.array()?);
                let n = u64::try_from(n).map_err(|_| format!("a negative length {n}"))?;
                self.string(n, false)?;
            }
            b'X' | b'B' => {
                let n = u64::from(u32::from_le_bytes(self.input.array()?));
                self.string(n, code == b'X')?;
            }
            0x8d | 0x8e => {
                let n = u64::from_le_bytes(self.input.array()?);
                self.string(n, code == 0x8d)?;
            }
            b'}' => self.push(Value::Dict(Vec::new()))?,
            b']' => self.push(Value::List(Vec::new()))?,
            b')' => self.push(Value::Tuple(Vec::new()))?,
            b't' => {
                let items = self.pop_mark()?;
                self.push(Value::Tuple(items))?;
            }
            0x85..=0x87 => {
                let n = usize::from(code - 0x84);
                let items = self.pop_n(n)?;
                self.push(Value::Tuple(items))?;
            }
            b'a' => {
                let item = self.pop()?;
                self.extend_list(vec![item])?;
            }
            b'e' => {
                let items = self.pop_mark()?;
                self.extend_list(items)?;
            }
            b's' => {
                let items = self.pop_n(2)?;
                self.extend_dict(items)?;
            }
            b'u' => {
                let items = self.pop_mark()?;
                self.extend_dict(items)?;
            }
            b'c' => {
                let module = self.input.line()?;
                let name = self.input.line()?;
                self.push(Value::Global { module, name })?;
            }
            0x93 => self.stack_global()?,
            b'R' => {
                let [func, args] = self.pop_n(2)?.try_into().expect("two popped");
                if !matches!(self.values[args], Value::Tuple(_)) {
                    return Err(Stop::Error("the arguments are not a tuple".into()));
                }
                let call = Value::Reduced {
                    func,
                    args,
                    state: None,
                };
                self.push(call)?;
            }
            b'b' => self.build()?,
            b'q' | b'h' => {
                let index = u64::from(self.input.byte()?);
                self.memo_op(code == b'q', index)?;
            }
            b'r' | b'j' => {
                let index = u64::from(u32::from_le_bytes(self.input.array()?));
                self.memo_op(code == b'r', index)?;
            }
            0x94 => self.put(self.memo.len() as u64)?,
            _ => return Err(Stop::Unknown),
        }
        Ok(())
    }

    fn stop(&mut self) -> Stop {
        match (self.marks.is_empty(), self.stack.as_slice()) {
            (true, [root]) => Stop::Done(*root),
            _ => Stop::Error(format!(
                "the pickle ends with {} values and {} open MARKs, not one value",
                self.stack.len(),
                self.marks.len()
            )),
        }
    }

    fn push(&mut self, value: Value) -> Result<(), String> {
        if self.stack.len() >= MAX_STACK {
            return Err(format!("more than {MAX_STACK} values on the stack"));
        }
        self.values.push(value);
        self.stack.push(self.values.len() - 1);
        Ok(())
    }

    fn mark(&mut self) -> Result<(), String> {
        if self.marks.len() >= MAX_MARKS {
            return Err(format!("more than {MAX_MARKS} nested MARKs"));
        }
        self.marks.push(self.stack.len());
        Ok(())
    }

    /// The values pushed since the last MARK, which is closed.
    fn pop_mark(&mut self) -> Result<Vec<Id>, String> {
        let start = self.marks.pop().ok_or("no MARK to close")?;
        Ok(self.stack.split_off(start))
    }

    /// The top `n` values, never reaching below the open MARK.
    fn pop_n(&mut self, n: usize) -> Result<Vec<Id>, String> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() < floor + n {
            return Err(format!("needs {n} values, but the stack has fewer"));
        }
        Ok(self.stack.split_off(self.stack.len() - n))
    }

    fn pop(&mut self) -> Result<Id, String> {
        Ok(self.pop_n(1)?[0])
    }

    /// The value on top, left there.
    fn top(&self) -> Result<Id, String> {
        let floor = self.marks.last().copied().unwrap_or(0);
        match self.stack.last() {
            Some(&top) if self.stack.len() > floor => Ok(top),
            _ => Err("needs a value, but the stack is empty".into()),
        }
    }

    fn int(&mut self, value: i64) -> Result<(), String> {
        self.push(Value::Int(value))
    }

    /// A little-endian two's-complement integer of up to 8 bytes.
    fn long1(&mut self) -> Result<(), String> {
        let n = usize::from(self.input.byte()?);
        if n > 8 {
            return Err(format!("an integer of {n} bytes, too large for a label"));
        }
        let bytes = self.input.bytes(n)?;
        let negative = bytes.last().is_some_and(|b| b & 0x80 != 0);
        let mut full = [if negative { 0xFF } else { 0 }; 8];
        full[..n].copy_from_slice(&bytes);
        self.int(i64::from_le_bytes(full))
    }

    fn string(&mut self, len: u64, text: bool) -> Result<(), String> {
        let offset = self.input.at;
        let bytes = if len <= KEPT_STRING_BYTES {
            Some(self.input.bytes(len as usize)?)
        } else {
            self.input.skip(len)?;
            None
        };
        self.push(Value::Str {
            offset,
            len,
            bytes,
            text,
        })
    }

    fn stack_global(&mut self) -> Result<(), String> {
        let [module, name] = self.pop_n(2)?.try_into().expect("two popped");
        let text = |id: Id| match &self.values[id] {
            Value::Str { bytes: Some(b), .. } if b.len() <= MAX_GLOBAL_BYTES => {
                String::from_utf8(b.clone()).ok()
            }
            _ => None,
        };
        let (Some(module), Some(name)) = (text(module), text(name)) else {
            return Err("the module and name are not short strings".into());
        };
        self.push(Value::Global { module, name })
    }

    fn extend_list(&mut self, items: Vec<Id>) -> Result<(), String> {
        let list = self.top()?;
        match &mut self.values[list] {
            Value::List(existing) => {
                existing.extend(items);
                Ok(())
            }
            _ => Err("appends to something that is not a list".into()),
        }
    }

    fn extend_dict(&mut self, items: Vec<Id>) -> Result<(), String> {
        if !items.len().is_multiple_of(2) {
            return Err("a key without its value".into());
        }
        let dict = self.top()?;
        let pairs = items.chunks_exact(2).map(|p| (p[0], p[1]));
        match &mut self.values[dict] {
            Value::Dict(existing) => {
                existing.extend(pairs);
                Ok(())
            }
            _ => Err("sets an item of something that is not a dict".into()),
        }
    }

    fn build(&mut self) -> Result<(), String> {
        let state = self.pop()?;
        let object = self.top()?;
        match &mut self.values[object] {
            Value::Reduced {
                state: s @ None, ..
            } => {
                *s = Some(state);
                Ok(())
            }
            _ => Err("gives a state to something that is not a fresh object".into()),
        }
    }

    fn memo_op(&mut self, put: bool, index: u64) -> Result<(), String> {
        if put {
            self.put(index)
        } else {
            self.get(index)
        }
    }

    fn put(&mut self, index: u64) -> Result<(), String> {
        let top = self.top()?;
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&index) {
            return Err(format!("more than {MAX_MEMO} values remembered"));
        }
        self.memo.insert(index, top);
        Ok(())
    }

    fn get(&mut self, index: u64) -> Result<(), String> {
        let id = *self
            .memo
            .get(&index)
            .ok_or_else(|| format!("memo entry {index} was never stored"))?;
        if self.stack.len() >= MAX_STACK {
            return Err(format!("more than {MAX_STACK} values on the stack"));
        }
        self.stack.push(id);
        Ok(())
    }
}

/// An opcode's name as Python's `pickletools` gives it.
fn name(code: u8) -> String {
    let known = match code {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => return format!("byte 0x{code:02x} (no pickle opcode)"),
    };
    format!("opcode {known} (0x{code:02x})")
}
