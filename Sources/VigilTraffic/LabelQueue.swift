/// Labels waiting to be reported, released in order of `reportedAtMs` as the caller's clock passes it: what the
/// fraud team would have published on `fraud.labels` by then.
public struct LabelQueue: Sendable {
    /// A binary min-heap on (reportedAtMs, arrival), so equal times come out in the order they were added.
    private var heap: [(at: Int64, order: Int, truth: GroundTruth)] = []
    private var added = 0

    public init() {}

    /// Labels added and not yet released.
    public var count: Int { heap.count }
    /// The earliest pending report time, if any.
    public var nextReportMs: Int64? { heap.first?.at }

    /// Queues `truth`'s label if it is ever reported (`reportedAtMs` not nil); returns whether it was queued.
    @discardableResult
    public mutating func add(_ truth: GroundTruth) -> Bool {
        guard let at = truth.reportedAtMs else { return false }
        heap.append((at, added, truth))
        added += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
        return true
    }

    /// Removes and returns the next label reported at or before `nowMs`, if any.
    public mutating func popDue(atMs nowMs: Int64) -> GroundTruth? {
        guard let first = heap.first, first.at <= nowMs else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count, Self.precedes(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count, Self.precedes(heap[right], heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.truth
    }

    private static func precedes(
        _ a: (at: Int64, order: Int, truth: GroundTruth), _ b: (at: Int64, order: Int, truth: GroundTruth)
    ) -> Bool {
        a.at != b.at ? a.at < b.at : a.order < b.order
    }
}
