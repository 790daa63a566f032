/* Weighted length of a post, ported from twitter-text v3 (the server's count is authoritative).
   Code points in the ranges below weigh 1, others 2; an emoji sequence counts once (weight 2);
   every URL counts 23; text is NFC-normalised first. DMs count code points (limit 10,000). */
(function (global) {
  "use strict";
  var RANGES = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
  var URL_LEN = 23;
  var URL_RE = /(?<![\p{L}\p{N}@._-])(?:https?:\/\/)?(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,24}(?![\p{L}\p{N}-])(?::\d{1,5})?(?:\/[^\s\u202a-\u202e\u2066-\u2069]*)?/giu;
  var EMOJI_RE = /(?:\p{Regional_Indicator}{2}|[#*0-9]\uFE0F?\u20E3|\p{Extended_Pictographic}(?:\uFE0F|\p{Emoji_Modifier}|[\u{E0020}-\u{E007F}]|\u200D\p{Extended_Pictographic}\uFE0F?)*)/gu;

  /* RFC 3492 punycode length of one label: hosts with a label over 63 encoded chars are not URLs. */
  function punyLength(label) {
    var cps = Array.from(label).map(function (c) { return c.codePointAt(0); });
    var basic = cps.filter(function (c) { return c < 128; }).length;
    if (basic === cps.length) { return cps.length; }
    var n = 128, delta = 0, bias = 72, h = basic, out = basic + (basic ? 1 : 0) + 4;
    function adapt(d, num, first) {
      d = first ? Math.floor(d / 700) : d >> 1;
      d += Math.floor(d / num);
      var k = 0;
      while (d > 455) { d = Math.floor(d / 35); k += 36; }
      return k + Math.floor(36 * d / (d + 38));
    }
    while (h < cps.length) {
      var m = Math.min.apply(null, cps.filter(function (c) { return c >= n; }));
      delta += (m - n) * (h + 1);
      n = m;
      for (var i = 0; i < cps.length; i++) {
        if (cps[i] < n) { delta++; }
        if (cps[i] === n) {
          var q = delta;
          for (var k = 36; ; k += 36) {
            var t = k <= bias ? 1 : (k >= bias + 26 ? 26 : k - bias);
            if (q < t) { break; }
            out++;
            q = Math.floor((q - t) / (36 - t));
          }
          out++;
          bias = adapt(delta, h + 1, h === basic);
          delta = 0;
          h++;
        }
      }
      delta++; n++;
    }
    return out;
  }

  function validHost(url) {
    var host = url.replace(/^https?:\/\//i, "").split(/[/:]/)[0];
    return host.split(".").every(function (l) { return punyLength(l) <= 63; });
  }

  function weight(cp) {
    for (var i = 0; i < RANGES.length; i++) {
      if (cp >= RANGES[i][0] && cp <= RANGES[i][1]) { return 1; }
    }
    return 2;
  }

  function postLength(text) {
    var s = (text || "").normalize("NFC");
    var total = 0;
    s = s.replace(URL_RE, function (m) {
      if (!/^https?:\/\//i.test(m) && !/\.(com|org|net|io|co|edu|gov|uk|de|fr|app|dev|me|ly|gl|jp)(?![a-z])/i.test(m)) {
        return m;
      }
      if (!validHost(m)) { return m; }
      total += URL_LEN;
      return "";
    });
    s = s.replace(EMOJI_RE, function () { total += 2; return ""; });
    for (var ch of s) { total += weight(ch.codePointAt(0)); }
    return total;
  }

  function dmLength(text) {
    var n = 0;
    for (var _ of (text || "").normalize("NFC")) { n++; }
    return n;
  }

  global.FlockText = {
    weightedLength: function (text, kind) { return kind === "dm" ? dmLength(text) : postLength(text); },
    limitFor: function (kind) { return kind === "dm" ? 10000 : 280; }
  };
})(window);
