// Steward dashboard: draws the Plotly figures embedded as JSON and refreshes live traffic.
(function () {
  "use strict";
  var CONFIG = { displayModeBar: false, responsive: true };

  function draw(el, figure) {
    var layout = Object.assign({ autosize: true }, figure.layout || {});
    var config = el.classList.contains("small") ? Object.assign({ staticPlot: true }, CONFIG) : CONFIG;
    return window.Plotly.react(el, figure.data || [], layout, config);
  }

  function drawAll() {
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-figure"));
      if (source) { draw(el, JSON.parse(source.textContent)); }
    });
  }

  function refreshTraffic() {
    var section = document.querySelector("[data-traffic-url]");
    if (!section) { return; }
    var url = section.getAttribute("data-traffic-url");
    window.setInterval(function () {
      if (document.hidden) { return; }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (t) {
          if (!t) { return; }
          var rate = section.querySelector('[data-figure="rate"]');
          var latency = section.querySelector('[data-figure="latency"]');
          if (rate) { draw(rate, t.rate); }
          if (latency) { draw(latency, t.latency); }
          var count = section.querySelector('[data-field="requests"]');
          if (count) { count.textContent = String(t.requests); }
        })
        .catch(function () { /* keep the last figures; the next tick retries */ });
    }, 15000);
  }

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });

  if (window.Plotly) { drawAll(); refreshTraffic(); }
})();
