// `vigil console`: the fraud analysts' web page (being built).
