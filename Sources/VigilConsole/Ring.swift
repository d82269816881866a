/// A fixed-capacity FIFO: appending to a full ring drops (and returns) the oldest element.
struct Ring<Element: Sendable>: Sendable {
    private var storage: [Element] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { storage.count }

    @discardableResult
    mutating func append(_ element: Element) -> Element? {
        guard storage.count == capacity else {
            storage.append(element)
            return nil
        }
        let oldest = storage[head]
        storage[head] = element
        head = (head + 1) % capacity
        return oldest
    }

    /// Visits the elements oldest first.
    func forEach(_ body: (Element) -> Void) {
        for i in 0..<storage.count { body(storage[(head + i) % storage.count]) }
    }

    /// The newest element matching `predicate`.
    func last(where predicate: (Element) -> Bool) -> Element? {
        var i = storage.count - 1
        while i >= 0 {
            let element = storage[(head + i) % storage.count]
            if predicate(element) { return element }
            i -= 1
        }
        return nil
    }
}
