/* The customer list's filter builder (筛选条件): rows of field → operator → value, joined by
   all (全部满足) or any (任一满足), written as the condition JSON of customers.conditions and
   applied as ?filter=<JSON> (q and sort kept), or saved as a segment. One level of grouping:
   the grammar nests deeper for the API. Plain DOM, no dependencies.
   Hosted on another page (data-builder-input="<id>", a classification rule's form), it has no
   apply or save: it keeps the condition JSON in that hidden input, empty for no rows (every
   customer), and leaves a missing value for the server to report with the form's other errors. */
(function () {
  "use strict";

  var LISTS = ["in", "not_in", "any", "all", "none"];
  var NO_VALUE = ["empty", "not_empty"];
  var DAYS = ["within_days", "older_than_days"];
  var counter = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function label(text, control) {
    var id = "b" + (++counter);
    control.id = id;
    return [el("label", { "for": id, "class": "sr-only", text: text }), control];
  }

  function Builder(root, data) {
    this.root = root;
    this.data = data;
    this.words = data.words;
    this.fields = {};
    data.fields.forEach(function (f) { this.fields[f.key] = f; }, this);
    this.rows = root.querySelector("[data-rows]");
    this.error = root.querySelector("[data-error]");
    this.target = root.dataset.builderInput ? document.getElementById(root.dataset.builderInput) : null;
    this.start(data.initial);
    root.querySelector("[data-add]").addEventListener("click", function () {
      this.addRow().querySelector("select").focus();
      this.sync();
    }.bind(this));
    if (this.target) {
      ["change", "input"].forEach(function (type) { root.addEventListener(type, this.sync.bind(this)); }, this);
      if (this.target.form) this.target.form.addEventListener("submit", this.sync.bind(this));
      this.sync();
    } else {
      root.querySelector("[data-apply]").addEventListener("click", this.apply.bind(this));
      root.querySelector("[data-save]").addEventListener("submit", this.save.bind(this));
    }
  }

  Builder.prototype.start = function (initial) {
    var leaves = [];
    if (initial && (initial.all || initial.any)) {
      var kind = initial.all ? "all" : "any";
      this.root.querySelector("input[name=builder-match][value=" + kind + "]").checked = true;
      leaves = initial[kind].filter(function (n) { return n && n.field; });
    } else if (initial && initial.field) {
      leaves = [initial];
    }
    leaves.forEach(function (leaf) { this.addRow(leaf); }, this);
    if (!leaves.length && !this.target) this.addRow();  // hosted: no rows is every customer
  };

  Builder.prototype.addRow = function (leaf) {
    var self = this;
    var field = el("select", { "data-field": "" });
    this.data.fields.forEach(function (f) {
      field.appendChild(el("option", { value: f.key, text: f.label }));
    });
    var op = el("select", { "data-op": "" });
    var value = el("span", { "class": "builder-value", "data-value": "" });
    var remove = el("button", { type: "button", "class": "btn btn-small btn-ghost",
                                "aria-label": this.words.remove, title: this.words.remove, text: "×" });
    var row = el("li", { "class": "builder-row" }, [
      el("span", { "class": "builder-cell" }, label(this.words.field, field)),
      el("span", { "class": "builder-cell" }, label(this.words.op, op)),
      value, remove]);
    field.addEventListener("change", function () { self.fillOps(row); self.fillValue(row); });
    op.addEventListener("change", function () { self.fillValue(row); });
    remove.addEventListener("click", function () {
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      if (!next && self.target) {  // hosted: no rows left is a valid condition (none)
        self.sync();
        self.root.querySelector("[data-add]").focus();
        return;
      }
      if (!next) next = self.addRow();
      next.querySelector("select").focus();  // the keyboard stays in the rows
      self.sync();
    });
    this.rows.appendChild(row);
    if (leaf && this.fields[leaf.field]) field.value = leaf.field;
    this.fillOps(row, leaf && leaf.op);
    this.fillValue(row, leaf && leaf.value);
    return row;
  };

  Builder.prototype.fieldOf = function (row) {
    return this.fields[row.querySelector("[data-field]").value];
  };

  Builder.prototype.fillOps = function (row, wanted) {
    var select = row.querySelector("[data-op]");
    select.innerHTML = "";
    this.fieldOf(row).ops.forEach(function (pair) {
      select.appendChild(el("option", { value: pair[0], text: pair[1] }));
    });
    if (wanted) select.value = wanted;
  };

  /* The value input suited to the field's kind and the operator. */
  Builder.prototype.fillValue = function (row, value) {
    var box = row.querySelector("[data-value]");
    var f = this.fieldOf(row), op = row.querySelector("[data-op]").value;
    box.innerHTML = "";
    delete box.dataset.region;
    if (NO_VALUE.indexOf(op) >= 0) return;
    if (f.kind === "region") { this.regionPicker(box, [].concat(value || [])[0]); return; }
    var options = this.optionsFor(f);
    if (LISTS.indexOf(op) >= 0 && options) {
      box.appendChild(this.checks(options, [].concat(value || [])));
    } else if (op === "between") {
      var pair = Array.isArray(value) ? value : ["", ""];
      box.appendChild(this.input(f, op, pair[0], this.words.from));
      box.appendChild(el("span", { "class": "muted", text: "–" }));
      box.appendChild(this.input(f, op, pair[1], this.words.to));
    } else {
      var shown = Array.isArray(value) ? value.join("、") : value;
      box.appendChild(this.input(f, op, shown, this.words.value));
      if (DAYS.indexOf(op) >= 0) box.appendChild(el("span", { "class": "muted", text: this.words.days }));
    }
  };

  /* A region: 省 → 市 → 区 selects (static/customers/regions.js, loaded when first needed);
     the value is the deepest chosen division's code, kept on the row. */
  Builder.prototype.regionPicker = function (box, code) {
    var regions = this.data.regions, self = this;
    box.dataset.region = code || "";
    var build = function () {
      window.KehuRegions.codePicker(box, regions.url, code, regions.words, function (chosen) {
        box.dataset.region = chosen;
        self.sync();
      });
    };
    if (window.KehuRegions) { build(); return; }
    var script = document.querySelector("script[data-kehu-regions]");
    if (!script) {
      script = el("script", { src: regions.script, "data-kehu-regions": "" });
      document.head.appendChild(script);
    }
    script.addEventListener("load", build);
  };

  Builder.prototype.optionsFor = function (f) {
    if (f.kind === "owner") {
      // "Me" only where there is a me: a rule runs as the system, so its page sends no word.
      var people = this.data.owners.map(function (o) { return [String(o[0]), o[1]]; });
      return this.words.me ? [["me", this.words.me]].concat(people) : people;
    }
    if (f.kind === "tags" && this.data.tags.length) {
      return this.data.tags.map(function (t) { return [t, t]; });
    }
    return f.choices.length ? f.choices : null;
  };

  Builder.prototype.checks = function (options, chosen) {
    var group = el("span", { "class": "builder-checks", role: "group", "aria-label": this.words.value });
    chosen = chosen.map(String);
    options.forEach(function (o) {
      var box = el("input", { type: "checkbox", value: o[0] });
      box.checked = chosen.indexOf(String(o[0])) >= 0;
      group.appendChild(el("label", { "class": "check" }, [box, document.createTextNode(" " + o[1])]));
    });
    return group;
  };

  Builder.prototype.input = function (f, op, value, name) {
    var attrs = { "data-input": "", "aria-label": name };
    if (DAYS.indexOf(op) >= 0) { attrs.type = "number"; attrs.min = "0"; attrs.step = "1"; attrs.inputmode = "numeric"; }
    else if (f.kind === "number") { attrs.type = "number"; attrs.step = "any"; attrs.inputmode = "decimal"; }
    else if (f.kind === "date") { attrs.type = "date"; }
    else {
      attrs.type = "text";
      if (LISTS.indexOf(op) >= 0) { attrs.placeholder = this.words.many; }
      if (f.kind === "tags") { attrs.placeholder = this.words.many; }
    }
    var input = el("input", attrs);
    input.value = value === undefined || value === null ? "" : value;
    input.addEventListener("keydown", function (e) {
      // Hosted, Enter submits the page's form as in any other field (synced on submit).
      if (e.key === "Enter" && !this.target) { e.preventDefault(); this.apply(); }
    }.bind(this));
    return input;
  };

  /* Hosted: the rows' condition into the page's hidden input ("" for none), missing values and
     all; the server names what is wrong next to the form's other fields. */
  Builder.prototype.sync = function () {
    if (!this.target) return;
    var leaves = Array.prototype.map.call(this.rows.children, function (row) {
      var leaf = { field: row.querySelector("[data-field]").value, op: row.querySelector("[data-op]").value };
      if (NO_VALUE.indexOf(leaf.op) < 0) leaf.value = this.valueOf(row, leaf.op);
      return leaf;
    }, this);
    var kind = this.root.querySelector("input[name=builder-match]:checked").value;
    var group = {};
    group[kind] = leaves;
    this.target.value = leaves.length ? JSON.stringify(group) : "";
    var none = this.root.querySelector("[data-none]");
    if (none) none.hidden = Boolean(leaves.length);
  };

  /* The condition the rows spell, or null (with the error shown) when a row lacks a value. */
  Builder.prototype.condition = function () {
    var leaves = [], problem = "";
    Array.prototype.forEach.call(this.rows.children, function (row, i) {
      var leaf = { field: row.querySelector("[data-field]").value, op: row.querySelector("[data-op]").value };
      if (NO_VALUE.indexOf(leaf.op) < 0) {
        leaf.value = this.valueOf(row, leaf.op);
        var missing = leaf.value === "" || (Array.isArray(leaf.value) &&
          (!leaf.value.length || leaf.value.indexOf("") >= 0));
        if (missing && !problem) problem = this.words.missing.replace("{n}", i + 1);
      }
      leaves.push(leaf);
    }, this);
    if (problem) return this.fail(problem);
    if (!leaves.length) return this.fail(this.words.empty);
    this.error.hidden = true;
    var kind = this.root.querySelector("input[name=builder-match]:checked").value;
    var group = {};
    group[kind] = leaves;
    return group;
  };

  Builder.prototype.valueOf = function (row, op) {
    var region = row.querySelector("[data-value][data-region]");
    if (region) return region.dataset.region ? [region.dataset.region] : [];
    var checks = row.querySelectorAll("[data-value] input[type=checkbox]");
    if (checks.length) {
      return Array.prototype.filter.call(checks, function (c) { return c.checked; })
        .map(function (c) { return c.value; });
    }
    var inputs = Array.prototype.map.call(row.querySelectorAll("[data-input]"), function (i) { return i.value.trim(); });
    if (op === "between") return inputs;
    if (LISTS.indexOf(op) >= 0) {
      return inputs[0].split(/[,，、;；\n]+/).map(function (s) { return s.trim(); }).filter(Boolean);
    }
    return inputs[0];
  };

  Builder.prototype.fail = function (message) {
    this.error.textContent = message;
    this.error.hidden = false;
    return null;
  };

  /* Reload the list with filter=<JSON>; q, sort and the quick filters stay, a segment and
     a page cursor go (the rows now are the condition, which may refine the segment's). */
  Builder.prototype.apply = function () {
    var condition = this.condition();
    if (!condition) return;
    var params = new URLSearchParams(window.location.search);
    ["filter", "segment", "cursor"].forEach(function (k) { params.delete(k); });
    params.set("filter", JSON.stringify(condition));
    window.location.search = params.toString();
  };

  Builder.prototype.save = function (event) {
    var condition = this.condition();
    if (!condition) { event.preventDefault(); return; }
    this.root.querySelector("[data-condition]").value = JSON.stringify(condition);
  };

  function init() {
    var root = document.querySelector("[data-builder]");
    var script = document.getElementById("builder-data");
    if (!root || !script || root.builder) return;
    root.builder = new Builder(root, JSON.parse(script.textContent));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
