//! The Modbus TCP slave of `modbus-en.md`, without I/O: MBAP framing, the
//! request PDUs of function codes 3, 4 and 16, exception responses, and the
//! register map computed from the charger's values (the same values
//! `/api/status` renders).
//!
//! Function 3 reads the holding table, function 4 the input table (they
//! overlap: holding 332–337 are PHASE_SWITCH_MODE/ENERGY_LIMIT/FORCE_STATE,
//! input 332–335 is ENERGY_CARD0). A write (function 16) becomes a list of
//! key writes ([`KeyWrite`]) that the server applies through the same
//! validation and store as `/api/set`.
//!
//! `msb` swaps the two bytes of every register of a 32- and 64-bit number,
//! `msr` the order of its registers (default: big-endian, high word first);
//! 16-bit registers and byte strings are never swapped.

use goe_engine::Charger;
use goe_keys::Value;

/// Most registers one read may ask for (Modbus application protocol 6.3/6.4).
pub const MAX_READ: u16 = 125;
/// Most registers one write may carry (6.12).
pub const MAX_WRITE: u16 = 123;
/// Longest MBAP length field we accept: unit id + a PDU of at most 253 bytes.
pub const MAX_MBAP_LENGTH: usize = 254;
/// MBAP header size (transaction, protocol, length, unit).
pub const HEADER_LEN: usize = 7;

/// A Modbus exception code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exception {
    /// 1: the function code is not supported.
    IllegalFunction = 1,
    /// 2: a register of the range is not mapped (or a write splits a value).
    IllegalDataAddress = 2,
    /// 3: bad quantity, malformed request, or a value the charger refuses.
    IllegalDataValue = 3,
    /// 4: the write could not be carried out (e.g. not persisted).
    ServerDeviceFailure = 4,
}

/// Why a byte stream cannot be framed: the connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The protocol identifier is not 0 (not Modbus).
    #[error("MBAP protocol identifier is not 0")]
    Protocol,
    /// The length field is 0/1 or longer than a Modbus PDU can be.
    #[error("MBAP length out of range")]
    Length,
}

/// The MBAP fields a response echoes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Transaction identifier.
    pub transaction: u16,
    /// Unit identifier.
    pub unit: u8,
}

/// The length of the first complete frame in `buf` (header included),
/// `Ok(None)` while more bytes are needed, or why the stream is not Modbus.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, FrameError> {
    if buf.len() < 6 {
        return Ok(None);
    }
    if buf[2] != 0 || buf[3] != 0 {
        return Err(FrameError::Protocol);
    }
    let len = usize::from(u16::from_be_bytes([buf[4], buf[5]]));
    if !(2..=MAX_MBAP_LENGTH).contains(&len) {
        return Err(FrameError::Length);
    }
    let total = 6 + len;
    Ok((buf.len() >= total).then_some(total))
}

/// Splits a complete frame into its header and PDU.
pub fn split_frame(frame: &[u8]) -> Option<(Header, &[u8])> {
    let header = Header {
        transaction: u16::from_be_bytes([*frame.first()?, *frame.get(1)?]),
        unit: *frame.get(6)?,
    };
    Some((header, frame.get(HEADER_LEN..)?))
}

/// Which register table a read addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Function 3.
    Holding,
    /// Function 4.
    Input,
}

/// A request the charger serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Function 3 or 4.
    Read {
        /// The table.
        table: Table,
        /// First register.
        address: u16,
        /// Number of registers.
        count: u16,
    },
    /// Function 16.
    Write {
        /// First register.
        address: u16,
        /// The register values.
        values: Vec<u16>,
    },
}

impl Request {
    /// Whether this is a read (for `mro`) or a write (`mwo`).
    pub fn is_read(&self) -> bool {
        matches!(self, Request::Read { .. })
    }
}

/// Parses a request PDU: the function code and the request, or the
/// exception to answer with that function code.
pub fn parse_pdu(pdu: &[u8]) -> (u8, Result<Request, Exception>) {
    let Some(&fc) = pdu.first() else {
        return (0, Err(Exception::IllegalFunction));
    };
    let word =
        |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*pdu.get(i)?, *pdu.get(i + 1)?])) };
    let result = match fc {
        3 | 4 => match (word(1), word(3), pdu.len()) {
            (Some(address), Some(count), 5) => {
                if count == 0 || count > MAX_READ {
                    Err(Exception::IllegalDataValue)
                } else {
                    let table = if fc == 3 {
                        Table::Holding
                    } else {
                        Table::Input
                    };
                    Ok(Request::Read {
                        table,
                        address,
                        count,
                    })
                }
            }
            _ => Err(Exception::IllegalDataValue),
        },
        16 => match (word(1), word(3), pdu.get(5)) {
            (Some(address), Some(count), Some(&bytes))
                if (1..=MAX_WRITE).contains(&count)
                    && usize::from(bytes) == 2 * usize::from(count)
                    && pdu.len() == 6 + usize::from(bytes) =>
            {
                let values = (0..usize::from(count))
                    .filter_map(|i| word(6 + 2 * i))
                    .collect();
                Ok(Request::Write { address, values })
            }
            _ => Err(Exception::IllegalDataValue),
        },
        _ => Err(Exception::IllegalFunction),
    };
    (fc, result)
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Registers read.
    Registers(Vec<u16>),
    /// A write done: echoes address and count.
    Written {
        /// First register.
        address: u16,
        /// Number of registers.
        count: u16,
    },
    /// An exception.
    Exception(Exception),
}

/// Encodes the response frame to `header`/`fc`.
pub fn encode_response(header: Header, fc: u8, answer: &Answer) -> Vec<u8> {
    let mut pdu = Vec::with_capacity(256);
    match answer {
        Answer::Registers(words) => {
            pdu.push(fc);
            pdu.push((words.len() * 2) as u8);
            for w in words {
                pdu.extend_from_slice(&w.to_be_bytes());
            }
        }
        Answer::Written { address, count } => {
            pdu.push(fc);
            pdu.extend_from_slice(&address.to_be_bytes());
            pdu.extend_from_slice(&count.to_be_bytes());
        }
        Answer::Exception(e) => {
            pdu.push(fc | 0x80);
            pdu.push(*e as u8);
        }
    }
    let mut out = Vec::with_capacity(HEADER_LEN + pdu.len());
    out.extend_from_slice(&header.transaction.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&((pdu.len() + 1) as u16).to_be_bytes());
    out.push(header.unit);
    out.extend_from_slice(&pdu);
    out
}

/// `msb`/`msr`: how 32- and 64-bit numbers are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Swap {
    /// `msb`: the two bytes of each register swapped.
    pub bytes: bool,
    /// `msr`: the registers in reverse order (low word first).
    pub registers: bool,
}

impl Swap {
    /// The charger's `msb`/`msr`.
    pub fn of(c: &Charger) -> Swap {
        let flag = |k: &str| c.value(k).and_then(Value::as_bool) == Some(true);
        Swap {
            bytes: flag("msb"),
            registers: flag("msr"),
        }
    }

    fn apply(self, mut words: Vec<u16>) -> Vec<u16> {
        if self.registers {
            words.reverse();
        }
        if self.bytes {
            for w in &mut words {
                *w = w.swap_bytes();
            }
        }
        words
    }

    fn undo(self, words: &[u16]) -> Vec<u16> {
        let mut words = words.to_vec();
        if self.bytes {
            for w in &mut words {
                *w = w.swap_bytes();
            }
        }
        if self.registers {
            words.reverse();
        }
        words
    }
}

/// What a register (or group of registers) shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reg {
    /// `car` (CAR_STATE).
    CarState,
    /// `cbl` (PP_CABLE).
    PpCable,
    /// `fwv` as 4 ASCII bytes.
    Fwv,
    /// `err` (ERROR).
    Error,
    /// `nrg[i]` volts (VOLT_L1..L3, VOLT_N).
    Volt(usize),
    /// `nrg[4+i]` in 0.1 A.
    Amp(usize),
    /// `nrg[11]` in 0.01 W.
    PowerTotal,
    /// `eto` in 0.1 kWh.
    EnergyTotal,
    /// `wh` in deka-watt-seconds.
    EnergyCharge,
    /// `nrg[7+i]` in 0.1 kW.
    Power(usize),
    /// `nrg[12+i]` in %.
    PowerFactor(usize),
    /// `alw`.
    Allow,
    /// `acs`.
    AccessState,
    /// `adi`.
    Adapter,
    /// `trx` (UNLOCKED_BY).
    UnlockedBy,
    /// `ust`.
    CableLock,
    /// `pha` bit flags.
    Phases,
    /// `lbr`.
    LedBrightness,
    /// `lse`.
    LedSaveEnergy,
    /// ELECTRICITY_PRICES_HOURS (no v2 key: the 2021 `aho`).
    PriceHours,
    /// ELECTRICITY_PRICES_FINISHED (no v2 key: the 2021 `afi`).
    PriceFinished,
    /// `awc`.
    PriceZone,
    /// `ama`.
    AmpereMax,
    /// `clp[i]`.
    AmpereLevel(usize),
    /// `cwe` inverted.
    CloudDisabled,
    /// `nmo`.
    NorwayMode,
    /// `amp`, not persisted on write.
    AmpereVolatile,
    /// `amp`, persisted on write.
    AmpereEeprom,
    /// Station MAC (6 bytes).
    Mac,
    /// `sse` (12 ASCII bytes).
    Serial,
    /// `host` (10 ASCII bytes).
    Hostname,
    /// `ccw.ip`, one byte per register.
    Ip,
    /// `ccw.netmask`.
    Subnet,
    /// `ccw.gw`.
    Gateway,
    /// `lri` (10 bytes).
    RfidCard,
    /// `cards[i].energy` as float64 Wh.
    EnergyCard(usize),
    /// `psm`.
    PhaseSwitchMode,
    /// `dwo` as float64 (Inf = null).
    EnergyLimit,
    /// `frc`.
    ForceState,
}

/// One entry of a table: first register, number of registers, content.
pub type Entry = (u16, u16, Reg);

/// The holding registers (function 3 and 16).
pub const HOLDING: &[Entry] = &[
    (200, 1, Reg::Allow),
    (201, 1, Reg::AccessState),
    (204, 1, Reg::CableLock),
    (206, 1, Reg::LedBrightness),
    (207, 1, Reg::LedSaveEnergy),
    (208, 1, Reg::PriceHours),
    (209, 1, Reg::PriceFinished),
    (210, 1, Reg::PriceZone),
    (211, 1, Reg::AmpereMax),
    (212, 1, Reg::AmpereLevel(0)),
    (213, 1, Reg::AmpereLevel(1)),
    (214, 1, Reg::AmpereLevel(2)),
    (215, 1, Reg::AmpereLevel(3)),
    (216, 1, Reg::AmpereLevel(4)),
    (217, 1, Reg::CloudDisabled),
    (218, 1, Reg::NorwayMode),
    (299, 1, Reg::AmpereVolatile),
    (300, 1, Reg::AmpereEeprom),
    (332, 1, Reg::PhaseSwitchMode),
    (333, 4, Reg::EnergyLimit),
    (337, 1, Reg::ForceState),
];

/// The input registers (function 4).
pub const INPUT: &[Entry] = &[
    (100, 1, Reg::CarState),
    (101, 1, Reg::PpCable),
    (105, 2, Reg::Fwv),
    (107, 1, Reg::Error),
    (108, 2, Reg::Volt(0)),
    (110, 2, Reg::Volt(1)),
    (112, 2, Reg::Volt(2)),
    (114, 2, Reg::Amp(0)),
    (116, 2, Reg::Amp(1)),
    (118, 2, Reg::Amp(2)),
    (120, 2, Reg::PowerTotal),
    (128, 2, Reg::EnergyTotal),
    (132, 2, Reg::EnergyCharge),
    (144, 2, Reg::Volt(3)),
    (146, 2, Reg::Power(0)),
    (148, 2, Reg::Power(1)),
    (150, 2, Reg::Power(2)),
    (152, 2, Reg::PowerFactor(0)),
    (154, 2, Reg::PowerFactor(1)),
    (156, 2, Reg::PowerFactor(2)),
    (158, 2, Reg::PowerFactor(3)),
    (200, 1, Reg::Allow),
    (202, 1, Reg::Adapter),
    (203, 1, Reg::UnlockedBy),
    (205, 1, Reg::Phases),
    (301, 3, Reg::Mac),
    (304, 6, Reg::Serial),
    (310, 5, Reg::Hostname),
    (315, 4, Reg::Ip),
    (319, 4, Reg::Subnet),
    (323, 4, Reg::Gateway),
    (327, 5, Reg::RfidCard),
    (332, 4, Reg::EnergyCard(0)),
    (336, 4, Reg::EnergyCard(1)),
    (340, 4, Reg::EnergyCard(2)),
    (344, 4, Reg::EnergyCard(3)),
    (348, 4, Reg::EnergyCard(4)),
    (352, 4, Reg::EnergyCard(5)),
    (356, 4, Reg::EnergyCard(6)),
    (360, 4, Reg::EnergyCard(7)),
    (364, 4, Reg::EnergyCard(8)),
    (368, 4, Reg::EnergyCard(9)),
];

/// The entries of `table`.
pub fn entries(table: Table) -> &'static [Entry] {
    match table {
        Table::Holding => HOLDING,
        Table::Input => INPUT,
    }
}

fn get<'a>(c: &'a Charger, key: &str) -> &'a Value {
    c.value(key).unwrap_or(&Value::Null)
}

fn num(c: &Charger, key: &str) -> f64 {
    match get(c, key) {
        Value::Bool(b) => f64::from(u8::from(*b)),
        v => v.as_f64().unwrap_or(0.0),
    }
}

fn nrg(c: &Charger, i: usize) -> f64 {
    match get(c, "nrg") {
        Value::Array(a) => a.get(i).and_then(Value::as_f64).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// A number into a register: rounded, clamped to the register's range.
fn u16_of(x: f64) -> u16 {
    x.round().clamp(0.0, f64::from(u16::MAX)) as u16
}

fn u32_words(x: f64) -> Vec<u16> {
    let v = x.round().clamp(0.0, f64::from(u32::MAX)) as u32;
    vec![(v >> 16) as u16, v as u16]
}

fn f64_words(x: f64) -> Vec<u16> {
    let b = x.to_bits();
    vec![
        (b >> 48) as u16,
        (b >> 32) as u16,
        (b >> 16) as u16,
        b as u16,
    ]
}

fn bytes_words(bytes: &[u8], regs: usize) -> Vec<u16> {
    (0..regs)
        .map(|i| {
            let hi = bytes.get(2 * i).copied().unwrap_or(0);
            let lo = bytes.get(2 * i + 1).copied().unwrap_or(0);
            u16::from_be_bytes([hi, lo])
        })
        .collect()
}

/// The four numbers of a dotted IPv4 text (0 for anything else).
fn ipv4(text: Option<&str>) -> Vec<u16> {
    let parsed = text.and_then(|t| t.parse::<std::net::Ipv4Addr>().ok());
    parsed.map_or(vec![0; 4], |ip| {
        ip.octets().iter().map(|&b| u16::from(b)).collect()
    })
}

fn ccw(c: &Charger, field: &str) -> Option<String> {
    get(c, "ccw")
        .field(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The station MAC address the registers show: the charger has no key with
/// it, so it is derived from the serial (locally administered `02:00:` +
/// the serial as a 32-bit number, or its first four bytes).
pub fn mac_of(serial: &str) -> [u8; 6] {
    let n = serial.parse::<u32>().unwrap_or_else(|_| {
        serial
            .bytes()
            .take(4)
            .fold(0u32, |acc, b| (acc << 8) | u32::from(b))
    });
    let b = n.to_be_bytes();
    [0x02, 0x00, b[0], b[1], b[2], b[3]]
}

/// The 10 bytes of RFID_CARD from `lri`: a hex id as its bytes, any other
/// text as its ASCII bytes, zero-filled at the end.
pub fn rfid_bytes(id: &str) -> Vec<u8> {
    let hex =
        id.len().is_multiple_of(2) && !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit());
    let mut bytes: Vec<u8> = if hex {
        (0..id.len() / 2)
            .filter_map(|i| u8::from_str_radix(id.get(2 * i..2 * i + 2)?, 16).ok())
            .collect()
    } else {
        id.bytes().collect()
    };
    bytes.truncate(10);
    bytes.resize(10, 0);
    bytes
}

/// The registers of one entry, swapped as `swap` says.
pub fn words(c: &Charger, reg: Reg, swap: Swap) -> Vec<u16> {
    let one = |x: f64| vec![u16_of(x)];
    match reg {
        Reg::CarState => one(num(c, "car")),
        Reg::PpCable => one(num(c, "cbl")),
        Reg::Fwv => {
            let fwv = get(c, "fwv").as_str().unwrap_or_default();
            bytes_words(fwv.trim_start_matches('0').as_bytes(), 2)
        }
        Reg::Error => match get(c, "err") {
            Value::Null => vec![10],
            v => one(v.as_f64().unwrap_or(10.0)),
        },
        Reg::Volt(i) => swap.apply(u32_words(nrg(c, i))),
        Reg::Amp(i) => swap.apply(u32_words(nrg(c, 4 + i) * 10.0)),
        Reg::PowerTotal => swap.apply(u32_words(nrg(c, 11) * 100.0)),
        Reg::EnergyTotal => swap.apply(u32_words((num(c, "eto") / 100.0).floor())),
        Reg::EnergyCharge => swap.apply(u32_words(num(c, "wh") * 360.0)),
        Reg::Power(i) => swap.apply(u32_words(nrg(c, 7 + i) / 100.0)),
        Reg::PowerFactor(i) => swap.apply(u32_words(nrg(c, 12 + i))),
        Reg::Allow => one(num(c, "alw")),
        Reg::AccessState => one(num(c, "acs")),
        Reg::Adapter => one(num(c, "adi")),
        Reg::UnlockedBy => one(num(c, "trx")),
        Reg::CableLock => one(num(c, "ust")),
        Reg::Phases => {
            let bits = match get(c, "pha") {
                Value::Array(a) => a.iter().enumerate().fold(0u16, |acc, (i, b)| {
                    if b.as_bool() == Some(true) && i < 16 {
                        acc | (1 << i)
                    } else {
                        acc
                    }
                }),
                _ => 0,
            };
            vec![bits]
        }
        Reg::LedBrightness => one(num(c, "lbr")),
        Reg::LedSaveEnergy => one(num(c, "lse")),
        Reg::PriceHours => vec![PRICE_HOURS],
        Reg::PriceFinished => vec![PRICE_FINISHED],
        Reg::PriceZone => one(num(c, "awc")),
        Reg::AmpereMax => one(num(c, "ama")),
        Reg::AmpereLevel(i) => match get(c, "clp") {
            Value::Array(a) => one(a.get(i).and_then(Value::as_f64).unwrap_or(0.0)),
            _ => vec![0],
        },
        Reg::CloudDisabled => vec![u16::from(get(c, "cwe").as_bool() == Some(false))],
        Reg::NorwayMode => one(num(c, "nmo")),
        Reg::AmpereVolatile | Reg::AmpereEeprom => one(num(c, "amp")),
        Reg::Mac => bytes_words(&mac_of(c.serial()), 3),
        Reg::Serial => bytes_words(get(c, "sse").as_str().unwrap_or_default().as_bytes(), 6),
        Reg::Hostname => bytes_words(get(c, "host").as_str().unwrap_or_default().as_bytes(), 5),
        Reg::Ip => ipv4(ccw(c, "ip").as_deref()),
        Reg::Subnet => ipv4(ccw(c, "netmask").as_deref()),
        Reg::Gateway => ipv4(ccw(c, "gw").as_deref()),
        Reg::RfidCard => bytes_words(&rfid_bytes(get(c, "lri").as_str().unwrap_or_default()), 5),
        Reg::EnergyCard(i) => {
            let wh = match get(c, "cards") {
                Value::Array(a) => a
                    .get(i)
                    .and_then(|card| card.field("energy"))
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
                _ => 0.0,
            };
            swap.apply(f64_words(wh))
        }
        Reg::PhaseSwitchMode => one(num(c, "psm")),
        Reg::EnergyLimit => {
            let limit = get(c, "dwo").as_f64().unwrap_or(f64::INFINITY);
            swap.apply(f64_words(limit))
        }
        Reg::ForceState => one(num(c, "frc")),
    }
}

/// What ELECTRICITY_PRICES_HOURS shows (the 2021 v1 `aho` of this project).
pub const PRICE_HOURS: u16 = 0;
/// What ELECTRICITY_PRICES_FINISHED shows (the 2021 v1 `afi`).
pub const PRICE_FINISHED: u16 = 6;

/// Function 3/4: `count` registers of `table` from `address`; exception 2
/// when any register of the range is not mapped.
pub fn read(c: &Charger, table: Table, address: u16, count: u16) -> Result<Vec<u16>, Exception> {
    let swap = Swap::of(c);
    let (start, end) = (u32::from(address), u32::from(address) + u32::from(count));
    let mut out = Vec::with_capacity(usize::from(count));
    let mut at = start;
    for &(first, len, reg) in entries(table) {
        let (first, last) = (u32::from(first), u32::from(first) + u32::from(len));
        if last <= at || first >= end {
            continue;
        }
        if first > at {
            return Err(Exception::IllegalDataAddress);
        }
        let words = words(c, reg, swap);
        let from = (at - first) as usize;
        let to = (end.min(last) - first) as usize;
        out.extend_from_slice(&words[from..to]);
        at = end.min(last);
        if at == end {
            break;
        }
    }
    if at < end {
        return Err(Exception::IllegalDataAddress);
    }
    Ok(out)
}

/// One key write a function 16 request becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyWrite {
    /// The key.
    pub key: &'static str,
    /// Its value as `/api/set` takes it (JSON).
    pub raw: String,
    /// AMPERE_VOLATILE: applied in memory, not saved.
    pub volatile: bool,
}

fn kw(key: &'static str, raw: String) -> KeyWrite {
    KeyWrite {
        key,
        raw,
        volatile: false,
    }
}

fn in_range(v: u16, range: std::ops::RangeInclusive<u16>) -> Result<u16, Exception> {
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(Exception::IllegalDataValue)
    }
}

/// Function 16: the key writes `values` from `address` stand for, checked
/// against the register's documented range (exception 3) and the map
/// (exception 2: an unmapped register, or a write that covers part of a
/// multi-register value). The charger's own validation comes after this.
pub fn plan_write(c: &Charger, address: u16, values: &[u16]) -> Result<Vec<KeyWrite>, Exception> {
    let swap = Swap::of(c);
    let mut plan = Vec::new();
    let mut at = u32::from(address);
    let end = at + values.len() as u32;
    while at < end {
        let Some(&(first, len, reg)) = HOLDING.iter().find(|(f, _, _)| u32::from(*f) == at) else {
            return Err(Exception::IllegalDataAddress);
        };
        let last = u32::from(first) + u32::from(len);
        if last > end {
            return Err(Exception::IllegalDataAddress);
        }
        let slice =
            &values[(at - u32::from(address)) as usize..(last - u32::from(address)) as usize];
        let v = slice[0];
        match reg {
            Reg::Allow => {
                let frc = match in_range(v, 0..=1)? {
                    0 => "1",
                    _ => "2",
                };
                plan.push(kw("frc", frc.into()));
            }
            Reg::AccessState => plan.push(kw("acs", in_range(v, 0..=3)?.to_string())),
            Reg::CableLock => plan.push(kw("ust", in_range(v, 0..=2)?.to_string())),
            Reg::LedBrightness => plan.push(kw("lbr", in_range(v, 0..=255)?.to_string())),
            Reg::LedSaveEnergy => plan.push(kw("lse", (in_range(v, 0..=1)? == 1).to_string())),
            Reg::PriceHours | Reg::PriceFinished => {
                // no such setting in the v2 key set: only the shown value is accepted
                let shown = if reg == Reg::PriceHours {
                    PRICE_HOURS
                } else {
                    PRICE_FINISHED
                };
                if v != shown {
                    return Err(Exception::IllegalDataValue);
                }
            }
            Reg::PriceZone => plan.push(kw("awc", v.to_string())),
            Reg::AmpereMax => plan.push(kw("ama", in_range(v, 6..=32)?.to_string())),
            Reg::AmpereLevel(i) => {
                let v = if v == 0 { 0 } else { in_range(v, 6..=32)? };
                let mut presets: Vec<i64> = match get(c, "clp") {
                    Value::Array(a) => a.iter().filter_map(Value::as_i64).collect(),
                    _ => Vec::new(),
                };
                // earlier levels of the same request
                if let Some(prev) = plan.iter().rev().find(|w| w.key == "clp") {
                    presets = serde_json::from_str(&prev.raw).unwrap_or(presets);
                }
                if i >= presets.len() {
                    presets.resize(i + 1, 6);
                }
                presets[i] = i64::from(v);
                let list: Vec<String> = presets.iter().map(i64::to_string).collect();
                plan.retain(|w| w.key != "clp");
                plan.push(kw("clp", format!("[{}]", list.join(","))));
            }
            Reg::CloudDisabled => plan.push(kw("cwe", (in_range(v, 0..=1)? == 0).to_string())),
            Reg::NorwayMode => plan.push(kw("nmo", (in_range(v, 0..=1)? == 1).to_string())),
            Reg::AmpereVolatile => plan.push(KeyWrite {
                key: "amp",
                raw: in_range(v, 6..=32)?.to_string(),
                volatile: true,
            }),
            Reg::AmpereEeprom => plan.push(kw("amp", in_range(v, 6..=32)?.to_string())),
            Reg::PhaseSwitchMode => plan.push(kw("psm", in_range(v, 0..=2)?.to_string())),
            Reg::ForceState => plan.push(kw("frc", in_range(v, 0..=2)?.to_string())),
            Reg::EnergyLimit => {
                let w = swap.undo(slice);
                let bits = (u64::from(w[0]) << 48)
                    | (u64::from(w[1]) << 32)
                    | (u64::from(w[2]) << 16)
                    | u64::from(w[3]);
                let limit = f64::from_bits(bits);
                let raw = if limit == f64::INFINITY {
                    "null".to_owned()
                } else if limit.is_finite() && limit >= 0.0 {
                    format!("{limit}")
                } else {
                    return Err(Exception::IllegalDataValue);
                };
                plan.push(kw("dwo", raw));
            }
            _ => return Err(Exception::IllegalDataAddress),
        }
        at = last;
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_refuses_what_is_not_modbus() {
        assert_eq!(frame_len(&[0, 1, 0, 0, 0]), Ok(None));
        assert_eq!(frame_len(&[0, 1, 0, 1, 0, 6, 1]), Err(FrameError::Protocol));
        assert_eq!(
            frame_len(&[0, 1, 0, 0, 0xff, 0xff, 1]),
            Err(FrameError::Length)
        );
        assert_eq!(frame_len(&[0, 1, 0, 0, 0, 0, 1]), Err(FrameError::Length));
        assert_eq!(frame_len(&[0, 1, 0, 0, 0, 6, 1, 3, 0, 100, 0]), Ok(None));
        assert_eq!(
            frame_len(&[0, 1, 0, 0, 0, 6, 1, 3, 0, 100, 0, 1, 9]),
            Ok(Some(12))
        );
    }

    #[test]
    fn pdus_map_to_exceptions() {
        assert_eq!(
            parse_pdu(&[1, 0, 0, 0, 1]).1,
            Err(Exception::IllegalFunction)
        );
        assert_eq!(
            parse_pdu(&[6, 0, 0, 0, 1]).1,
            Err(Exception::IllegalFunction)
        );
        assert_eq!(
            parse_pdu(&[3, 0, 0, 0, 0]).1,
            Err(Exception::IllegalDataValue)
        );
        assert_eq!(
            parse_pdu(&[4, 0, 0, 0, 126]).1,
            Err(Exception::IllegalDataValue)
        );
        // the quantity*2 overflow of a u16 (tokio-modbus' decoder panics on it in debug builds)
        assert_eq!(
            parse_pdu(&[16, 0, 0, 0x80, 0, 0]).1,
            Err(Exception::IllegalDataValue)
        );
        assert_eq!(
            parse_pdu(&[16, 1, 43, 0, 1, 2, 0, 10]).1,
            Ok(Request::Write {
                address: 299,
                values: vec![10]
            })
        );
    }

    /// The single frames that panic or mis-answer `rmodbus` 0.13.0 (see
    /// docs/compat.md, "Server crate."): answered here, without a panic.
    #[test]
    fn inputs_that_break_rmodbus() {
        let header = Header {
            transaction: 7,
            unit: 1,
        };
        // a function code >= 0x80: exception 1 echoing it, no overflow
        for fc in [0x80u8, 0x81, 0xff] {
            let (got, result) = parse_pdu(&[fc, 0, 0, 0, 1]);
            assert_eq!((got, result), (fc, Err(Exception::IllegalFunction)));
            let answer = Answer::Exception(Exception::IllegalFunction);
            assert_eq!(
                encode_response(header, got, &answer),
                vec![0, 7, 0, 0, 0, 3, 1, fc | 0x80, 1]
            );
        }
        // a byte count larger than the data, or not 2 x quantity; quantity 0
        for pdu in [
            &[16u8, 1, 43, 0, 2, 4, 0, 10][..],
            &[16, 1, 43, 0, 2, 2, 0, 10],
            &[16, 1, 43, 0, 0, 0],
            &[3, 0, 100, 0, 0],
        ] {
            assert_eq!(
                parse_pdu(pdu).1,
                Err(Exception::IllegalDataValue),
                "{pdu:?}"
            );
        }
        // the longest write (123 registers, MBAP length 253) is framed and parsed
        let mut frame = vec![0, 1, 0, 0, 0, 253, 1, 16, 0, 200, 0, 123, 246];
        frame.extend(std::iter::repeat_n(0u8, 246));
        assert_eq!(frame_len(&frame), Ok(Some(259)));
        let (_, pdu) = split_frame(&frame).unwrap();
        assert!(
            matches!(parse_pdu(pdu).1, Ok(Request::Write { values, .. }) if values.len() == 123)
        );
    }

    #[test]
    fn swaps_apply_to_numbers() {
        let w = vec![0x1234, 0x5678];
        assert_eq!(
            Swap {
                bytes: false,
                registers: true
            }
            .apply(w.clone()),
            vec![0x5678, 0x1234]
        );
        assert_eq!(
            Swap {
                bytes: true,
                registers: false
            }
            .apply(w.clone()),
            vec![0x3412, 0x7856]
        );
        let s = Swap {
            bytes: true,
            registers: true,
        };
        assert_eq!(s.undo(&s.apply(w.clone())), w);
    }

    #[test]
    fn rfid_and_mac() {
        assert_eq!(
            rfid_bytes("04A1B2C3"),
            vec![4, 0xA1, 0xB2, 0xC3, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(mac_of("012345"), [2, 0, 0, 0, 0x30, 0x39]);
    }
}
