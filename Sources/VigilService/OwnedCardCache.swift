import VigilCore

/// The state of recently stored cards of the partitions this instance owns, so that a batch reads from Redis only
/// the cards it has not seen since its partition was claimed. Only the owner of a partition changes its cards, so a
/// card's state as this instance last stored it is what Redis holds, for as long as the partition stays claimed by
/// it and nothing failed: the pipeline puts a card here only once its batch is stored, and drops a partition's cards
/// when it claims or loses the partition, and every card on any failed batch (a fence, lost writes, an outage).
/// Redis stays the source of truth for restarts and rebalances.
///
/// Bounded in bytes (an estimate of each state's memory), with two generations: cards are put in the young one;
/// when it holds half the budget, it becomes the old one and the old one is dropped. A card found in the old
/// generation moves to the young one. That keeps the cards used since the last turnover, at the cost of at most half
/// the budget of cards used before it. A card older than `maxAgeMs` (wall clock since it was stored) is not used: its
/// Redis key may have expired meanwhile.
///
/// Only busy cards are kept (`minimumEvents` held events or more): a quiet card's state is a key of about 120 bytes
/// in the batch's one MGET, cheap to read, and there are many of them (a million cards would fill any budget with
/// states read once or twice a day). A busy card's state grows with its activity (26 bytes an event), and that is
/// what a read from Redis must not cost each batch.
///
/// Not thread-safe: the pipeline thread owns it.
struct OwnedCardCache {
    /// Held events a card needs to be kept.
    static let minimumEvents = 8

    struct Entry {
        var state: CardState
        var bytes: Int
        var storedMs: Int64
    }

    let budgetBytes: Int
    let maxAgeMs: Int64
    private(set) var young: [CardKey: Entry] = [:]
    private(set) var old: [CardKey: Entry] = [:]
    private(set) var youngBytes = 0
    private(set) var oldBytes = 0

    init(budgetBytes: Int, maxAgeMs: Int64) {
        self.budgetBytes = budgetBytes
        self.maxAgeMs = maxAgeMs
    }

    var bytes: Int { youngBytes + oldBytes }
    var count: Int { young.count + old.count }

    /// The cached state of `card`, if it is fresh enough.
    mutating func take(_ card: CardKey, nowMs: Int64) -> CardState? {
        if let entry = young[card] {
            return nowMs - entry.storedMs < maxAgeMs ? entry.state : nil
        }
        guard let entry = old.removeValue(forKey: card) else { return nil }
        oldBytes -= entry.bytes
        guard nowMs - entry.storedMs < maxAgeMs else { return nil }
        insertYoung(card, entry)
        return entry.state
    }

    /// Remembers `state` as what Redis now holds for `card` (its batch was stored at `nowMs`).
    mutating func put(_ card: CardKey, _ state: CardState, nowMs: Int64) {
        let size = OwnedCardCache.footprint(of: state, card: card)
        forget(card)
        // A card bigger than a generation is not kept (it would turn the young generation over on its own), nor a
        // quiet one.
        guard size <= budgetBytes / 2, state.events.count >= OwnedCardCache.minimumEvents else { return }
        insertYoung(card, Entry(state: state, bytes: size, storedMs: nowMs))
    }

    /// Drops `card` (its stored state is no longer what is kept here).
    mutating func forget(_ card: CardKey) {
        if let previous = old.removeValue(forKey: card) { oldBytes -= previous.bytes }
        if let previous = young.removeValue(forKey: card) { youngBytes -= previous.bytes }
    }

    private mutating func insertYoung(_ card: CardKey, _ entry: Entry) {
        young[card] = entry
        youngBytes += entry.bytes
        if youngBytes > budgetBytes / 2 {
            old = young
            oldBytes = youngBytes
            young = [:]
            youngBytes = 0
        }
    }

    /// Forgets the cards of `partitions` (claimed anew, revoked, fenced, or rebuilt from the log).
    mutating func remove(partitions: Set<Int32>) {
        guard !partitions.isEmpty, count > 0 else { return }
        young = young.filter { !partitions.contains($0.key.partition) }
        old = old.filter { !partitions.contains($0.key.partition) }
        youngBytes = young.values.reduce(0) { $0 + $1.bytes }
        oldBytes = old.values.reduce(0) { $0 + $1.bytes }
    }

    mutating func removeAll() {
        young = [:]
        old = [:]
        youngBytes = 0
        oldBytes = 0
    }

    /// An estimate of the memory a cached state takes: the entry in the table (key, state and hash-table slack), its
    /// arrays, and the window index of a busy card.
    static func footprint(of state: CardState, card: CardKey) -> Int {
        let entry = MemoryLayout<CardKey>.stride + MemoryLayout<Entry>.stride
        let arrayHeader = 32
        // Ids of more than 15 bytes are not small strings: they are on the heap.
        let idBytes = card.cardId.utf8.count
        var size = 2 * entry + (idBytes > 15 ? arrayHeader + idBytes : 0)
        size += arrayHeader + state.events.capacity * MemoryLayout<CardState.Event>.stride
        if state.days.capacity > 0 { size += arrayHeader + state.days.capacity * MemoryLayout<CardState.DayBucket>.stride }
        size += state.indexFootprint
        return size
    }
}
