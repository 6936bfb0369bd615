from django import forms

from .models import OrderStatus, Store, normalize_country_list, normalize_push_times


class StoreForm(forms.ModelForm):
    import_order_statuses = forms.MultipleChoiceField(
        choices=OrderStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Amazon statuses of new orders to download (default Unshipped and Partially shipped).",
    )

    class Meta:
        model = Store
        fields = "__all__"

    def clean_ship_to_countries(self) -> str:
        return normalize_country_list(self.cleaned_data.get("ship_to_countries", ""))

    def clean_inventory_push_times(self) -> str:
        return normalize_push_times(self.cleaned_data.get("inventory_push_times", ""))
