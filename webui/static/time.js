// Local times: each <time datetime> is shown in the browser's own time
// zone, in the page's language, and a time marked data-relative also says
// how far away it is ("in 3 days"). Without JavaScript the server's UTC
// text stays, which this script keeps as the element's title.
(function () {
  "use strict";
  var lang = document.documentElement.lang || undefined;
  var ja = lang === "ja";
  var abs = new Intl.DateTimeFormat(lang, {
    year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });
  var rel = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  var units = [["day", 86400], ["hour", 3600], ["minute", 60]];
  function relative(ms) {
    var s = ms / 1000;
    for (var i = 0; i < units.length; i++) {
      if (Math.abs(s) >= units[i][1]) {
        return rel.format(Math.round(s / units[i][1]), units[i][0]);
      }
    }
    return rel.format(0, "minute");
  }
  var times = document.querySelectorAll("time[datetime]");
  for (var i = 0; i < times.length; i++) {
    var el = times[i];
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d.getTime())) {
      continue;
    }
    el.title = el.textContent;
    var text = abs.format(d);
    if (el.hasAttribute("data-relative")) {
      var r = relative(d.getTime() - Date.now());
      text += ja ? "（" + r + "）" : " (" + r + ")";
    }
    el.textContent = text;
  }
})();
