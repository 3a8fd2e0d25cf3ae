//! Ids of the keys the engine reads and writes, resolved once from the table.

use goe_keys::{KeyId, key_id};
use std::sync::LazyLock;

macro_rules! key_ids {
    ($($field:ident = $name:literal),* $(,)?) => {
        /// One field per key the engine uses.
        #[derive(Debug, Clone, Copy)]
        pub struct Ids { $(pub $field: KeyId,)* }

        static IDS: LazyLock<Ids> = LazyLock::new(|| Ids {
            $($field: key_id($name).unwrap_or_else(|| panic!("key {} missing from the table", $name)),)*
        });
    };
}

key_ids! {
    alw = "alw", acu = "acu", acui = "acui", cll = "cll", adi = "adi", dwo = "dwo", tpa = "tpa",
    eto = "eto", etop = "etop", wifis = "wifis", utc = "utc", loc = "loc", tof = "tof", tds = "tds",
    led = "led", lbr = "lbr", lmo = "lmo", ama = "ama", tcl = "tcl", clp = "clp", bac = "bac",
    lbp = "lbp", amp = "amp", cid = "cid", cwc = "cwc", cch = "cch", cfi = "cfi", ust = "ust",
    lck = "lck", sch_week = "sch_week", sch_satur = "sch_satur", sch_sund = "sch_sund",
    fsp = "fsp", acs = "acs", frc = "frc", rbc = "rbc", rbt = "rbt", car = "car", err = "err",
    cbl = "cbl", pha = "pha", wh = "wh", trx = "trx", lse = "lse", cdi = "cdi", lccfi = "lccfi",
    lccfc = "lccfc", lcctc = "lcctc", tma = "tma", amt = "amt", nrg = "nrg",
    model_status = "modelStatus", msi = "msi", lmsc = "lmsc", mca = "mca", awp = "awp",
    awcp = "awcp", awpl = "awpl", frm = "frm", fup = "fup", awe = "awe", fst = "fst", fmt = "fmt",
    att = "att", ate = "ate", ara = "ara", acp = "acp", psmd = "psmd", sumd = "sumd",
    mpwst = "mpwst", mptwt = "mptwt", mmp = "mmp", tlf = "tlf", tls = "tls", lpsc = "lpsc",
    pgrid = "pgrid", ppv = "ppv", pakku = "pakku", inva = "inva", deltap = "deltap", pnp = "pnp",
    deltaa = "deltaa", avg_pgrid = "pvopt_averagePGrid", avg_ppv = "pvopt_averagePPv",
    avg_pakku = "pvopt_averagePAkku", ct = "ct", mci = "mci", mcpd = "mcpd", mcpea = "mcpea",
    su = "su", sua = "sua", var = "var", pwm = "pwm", lfspt = "lfspt", fsptws = "fsptws",
    spl3 = "spl3", psm = "psm", cus = "cus", fhz = "fhz", avgfhz = "avgfhz", cards = "cards",
    pgt = "pgt", sh = "sh", psh = "psh", rr = "rr", ocu = "ocu", ocm = "ocm", loa = "loa", loe = "loe", lom = "lom", los = "los",
    lof = "lof", lop = "lop", log = "log", lot = "lot", loty = "loty",
    esr = "esr", whs = "whs", whg = "whg", whb = "whb", who = "who", ws = "ws", wg = "wg",
    wb = "wb", wo = "wo",
    fzf = "fzf", zfo = "zfo", po = "po",
    tab = "tab", lto = "lto",
    nmo = "nmo",
    ocppe = "ocppe", ocppf = "ocppf", ocppio = "ocppio", txt = "txt",
}

/// The resolved ids.
pub fn k() -> &'static Ids {
    &IDS
}
