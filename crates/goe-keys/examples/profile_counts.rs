//! Prints, per firmware profile, how many keys it has, prints, keeps
//! write-only and publishes over MQTT (the numbers of docs/compat.md's
//! "What each profile prints" table): `cargo run -p goe-keys --example profile_counts`.

fn main() {
    for p in goe_keys::profiles() {
        let all = p.keys().count();
        let printed = p.readable_keys().count();
        let mqtt = p
            .readable_keys()
            .filter(|(kid, _)| p.publishes(*kid))
            .count();
        let write_only: Vec<&str> = p
            .keys()
            .filter(|(_, d)| !d.access.readable())
            .map(|(_, d)| d.name)
            .collect();
        println!(
            "{}: {all} keys, {printed} printed, {} write-only ({}), {mqtt} on MQTT",
            p.firmware,
            write_only.len(),
            write_only.join(" ")
        );
    }
}
