/* The region picker (省 → 市 → 区): three native selects fed by /customers/regions/?parent=CODE,
   and a 粘贴地址 box whose text the server reads (/customers/regions/parse/?q=…) to fill them.
   Plain DOM, no dependencies; native selects keep it keyboard- and phone-friendly.

   - A form or filter area marked data-region-picker (data-children-url, data-parse-url,
     data-words JSON) has its text inputs named province / city / district turned into selects
     whose values are the official names (what the form posts). A stored value that is not in
     the list stays, as an option marked as such, so nothing is lost by opening the form.
   - window.KehuRegions.codePicker(box, url, code, words, onChange) builds the same three
     selects valued by code, for the list's filter builder (a condition holds codes). */
(function () {
  "use strict";

  var cache = {};

  function getJSON(url) {
    if (!cache[url]) {
      cache[url] = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .catch(function (e) { delete cache[url]; throw e; });
    }
    return cache[url];
  }

  function children(base, parent) {
    return getJSON(base + "?parent=" + encodeURIComponent(parent || "")).then(function (d) { return d.regions; });
  }

  /* One level's select: an empty choice, the divisions, and (by name) a typed value kept. */
  function fill(select, regions, words, byCode) {
    select.innerHTML = "";
    var none = document.createElement("option");
    none.value = "";
    none.textContent = words.choose;
    select.appendChild(none);
    regions.forEach(function (r) {
      var o = document.createElement("option");
      o.value = byCode ? r.code : r.name;
      o.textContent = r.name;
      o.dataset.code = r.code;
      select.appendChild(o);
    });
    select.disabled = !regions.length;
  }

  function keep(select, typed, words) {
    var o = document.createElement("option");
    o.value = typed;
    o.textContent = typed + " " + words.unknown;
    select.appendChild(o);
    select.disabled = false;
    select.value = typed;
  }

  /* A municipality's one city, which the server marks: chosen without asking. */
  function implied(regions) {
    return regions.length === 1 && regions[0].implied === true;
  }

  function chosenCode(select) {
    var o = select.options[select.selectedIndex];
    return o && o.dataset.code ? o.dataset.code : "";
  }

  /* Select the option whose name (or code) is `wanted`; true when found. */
  function pick(select, wanted, byCode) {
    for (var i = 0; i < select.options.length; i++) {
      var o = select.options[i];
      if (o.dataset.code && (byCode ? o.dataset.code === wanted : o.value === wanted)) {
        select.selectedIndex = i;
        return true;
      }
    }
    return false;
  }

  /* A cascade over 2 or 3 selects. `levels` = [province, city, district?]. */
  function Cascade(levels, base, words, byCode, onChange) {
    this.levels = levels;
    this.base = base;
    this.words = words;
    this.byCode = byCode;
    this.onChange = onChange || function () {};
    levels.forEach(function (select, i) {
      select.addEventListener("change", function () { this.changed(i); }.bind(this));
    }, this);
  }

  /* Level i changed: refill the levels below it (a municipality's one city chosen at once). */
  Cascade.prototype.changed = function (i) {
    var self = this;
    var next = this.levels[i + 1];
    for (var j = i + 1; j < this.levels.length; j++) fill(this.levels[j], [], this.words, this.byCode);
    var code = chosenCode(this.levels[i]);
    if (!next || !code) { this.onChange(); return Promise.resolve(); }
    return children(this.base, code).then(function (regions) {
      fill(next, regions, self.words, self.byCode);
      if (implied(regions)) {
        next.selectedIndex = 1;  // 北京市 → 北京市
        return self.changed(i + 1);
      }
      self.onChange();
    });
  };

  /* Show `values` (names, or codes by level) from the top; a name not in the list is kept. */
  Cascade.prototype.show = function (values) {
    var self = this;
    var step = function (i, parent) {
      if (i >= self.levels.length) return Promise.resolve();
      return children(self.base, parent).then(function (regions) {
        var select = self.levels[i];
        fill(select, regions, self.words, self.byCode);
        var wanted = values[i] || "";
        if (!wanted) {
          if (implied(regions)) {
            select.selectedIndex = 1;
            return step(i + 1, regions[0].code);
          }
          return null;
        }
        if (pick(select, wanted, self.byCode)) return step(i + 1, chosenCode(select));
        if (!self.byCode) keep(select, wanted, self.words);
        for (var j = i + 1; j < self.levels.length; j++) {
          fill(self.levels[j], [], self.words, self.byCode);
          if (values[j] && !self.byCode) keep(self.levels[j], values[j], self.words);
        }
        return null;
      });
    };
    return step(0, "");
  };

  function selectFor(input) {
    var select = document.createElement("select");
    select.id = input.id;
    select.name = input.name;
    select.className = input.className;
    select.setAttribute("data-region-level", input.name);
    input.replaceWith(select);
    return select;
  }

  function enhance(root) {
    var words = JSON.parse(root.getAttribute("data-words") || "{}");
    var base = root.getAttribute("data-children-url");
    var inputs = ["province", "city", "district"].map(function (n) {
      return root.querySelector("input[name=" + n + "]");
    }).filter(Boolean);
    if (inputs.length < 2) return;
    var values = inputs.map(function (i) { return i.value.trim(); });
    var levels = inputs.map(selectFor);
    var cascade = new Cascade(levels, base, words, false);
    cascade.show(values).catch(function () {
      levels.forEach(function (s, i) { s.replaceWith(inputs[i]); });  // offline: plain text again
    });
    var paste = root.querySelector("[data-region-paste]");
    if (paste) pasteBox(paste, cascade, root, words);
  }

  function pasteBox(box, cascade, root, words) {
    var text = box.querySelector("textarea, input");
    var button = box.querySelector("button");
    var result = box.querySelector("[data-region-paste-result]");
    var parseUrl = root.getAttribute("data-parse-url");
    var read = function () {
      var q = text.value.trim();
      if (!q) return;
      getJSON(parseUrl + "?q=" + encodeURIComponent(q)).then(function (found) {
        var names = [found.province, found.city, found.district].map(function (p) { return p ? p.name : ""; });
        return cascade.show(names.slice(0, cascade.levels.length)).then(function () {
          var address = root.querySelector("[name=address]");
          if (address && found.rest && !address.value.trim()) address.value = found.rest;
          var said = found.full_name;  // the server's: 上海市 said once
          if (found.ambiguous.length) {
            result.textContent = (said ? words.found + said + "。" : "") + words.ambiguous + found.ambiguous.join("、");
          } else {
            result.textContent = said ? words.found + said : words.nothing;
          }
          cascade.levels[0].dispatchEvent(new Event("regions:filled", { bubbles: true }));
        });
      }).catch(function () { result.textContent = words.failed; });
    };
    button.addEventListener("click", read);
    text.addEventListener("paste", function () { setTimeout(read, 0); });
    text.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); read(); }
    });
  }

  /* For the filter builder: selects valued by code; onChange gets the deepest chosen code. */
  function codePicker(box, base, code, words, onChange) {
    var levels = [words.province, words.city, words.district].map(function (label) {
      var s = document.createElement("select");
      s.setAttribute("aria-label", label);
      s.setAttribute("data-region-level", "");
      box.appendChild(s);
      return s;
    });
    var deepest = function () {
      for (var i = levels.length - 1; i >= 0; i--) if (levels[i].value) return levels[i].value;
      return "";
    };
    var cascade = new Cascade(levels, base, words, true, function () { onChange(deepest()); });
    var start = code
      ? getJSON(base + "?code=" + encodeURIComponent(code)).then(function (d) {
        return d.path.map(function (p) { return p.code; });
      })
      : Promise.resolve([]);
    start.then(function (codes) { return cascade.show(codes); }).then(function () { onChange(deepest()); });
    return { value: deepest };
  }

  window.KehuRegions = { codePicker: codePicker };

  function init() {
    document.querySelectorAll("[data-region-picker]").forEach(enhance);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
