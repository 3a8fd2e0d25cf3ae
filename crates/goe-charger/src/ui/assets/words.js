// The modelStatus enum names of the key table in words, shared by the
// charger page and the fleet page:
// "NotChargingBecauseLoadManagementDoesntWant" → "Not charging: load management doesnt want"
const wordsCache = new Map();
export function words(name) {
  if (!name) return "";
  let w = wordsCache.get(name);
  if (w === undefined) {
    w = name.replace(/GoE/g, "Go-e").replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()
      .replace(/\bpv\b/g, "PV").replace(/\bocpp\b/g, "OCPP")
      .replace(/^(not charging|charging) because /, "$1: ");
    w = w.charAt(0).toUpperCase() + w.slice(1);
    wordsCache.set(name, w);
  }
  return w;
}
