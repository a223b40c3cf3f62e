// Shareable URL: one history entry per thing the visitor did. A URL written after a
// pointer, key or drop gesture is pushed (back returns to the view before it); one the
// page writes by itself (a layer's kernel view settling, a link opened) replaces the
// entry it refines. Back/forward count as a write: gestures before them are spent, and a
// write the server computed from the URL before them is dropped (it would overwrite the
// entry just returned to).
(function () {
    let lastGesture = -1;
    let lastWrite = 0;
    let lastNavigation = -1;
    for (const type of ['pointerdown', 'keydown', 'drop']) {
        window.addEventListener(type, () => { lastGesture = performance.now(); }, true);
    }
    window.addEventListener('popstate', () => {
        lastNavigation = performance.now();
        lastWrite = lastNavigation;
    });
    window.convscopeUrl = {
        // 'push' a new entry, 'replace' the current one, or 'drop' a stale write
        howToWrite(from) {
            if (from !== window.location.search && lastNavigation >= lastWrite - 1e-6) {
                return 'drop';
            }
            const gesture = lastGesture > lastWrite;
            lastWrite = performance.now();
            return gesture ? 'push' : 'replace';
        },
    };
})();
