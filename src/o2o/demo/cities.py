"""The demo's cities: districts where stores cluster, street names for addresses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    name: str
    name_zh: str
    lat: float
    lng: float
    weight: float  # share of stores
    sigma_km: float


@dataclass(frozen=True)
class City:
    code: str
    name: str
    name_zh: str
    timezone: str
    center: tuple[float, float]
    bounds: tuple[float, float, float, float]  # min_lat, min_lng, max_lat, max_lng
    districts: tuple[District, ...]
    streets: tuple[tuple[str, str], ...]


SHANGHAI = City(
    code="shanghai",
    name="Shanghai",
    name_zh="上海",
    timezone="Asia/Shanghai",
    center=(31.2304, 121.4737),
    bounds=(30.68, 120.85, 31.88, 122.0),
    districts=(
        District("People's Square", "人民广场", 31.2336, 121.4752, 1.4, 1.2),
        District("Lujiazui", "陆家嘴", 31.2397, 121.4998, 1.2, 1.3),
        District("Jing'an", "静安", 31.2286, 121.4480, 1.3, 1.3),
        District("Xujiahui", "徐家汇", 31.1880, 121.4370, 1.1, 1.4),
        District("Wujiaochang", "五角场", 31.3000, 121.5140, 0.8, 1.6),
        District("Zhongshan Park", "中山公园", 31.2220, 121.4170, 0.7, 1.4),
        District("Hongqiao", "虹桥", 31.1970, 121.3270, 0.6, 2.0),
        District("Century Park", "世纪公园", 31.2154, 121.5510, 0.6, 1.8),
        District("Minhang", "闵行", 31.1130, 121.3810, 0.5, 2.5),
        District("Songjiang", "松江", 31.0320, 121.2280, 0.3, 2.5),
    ),
    streets=(
        ("Nanjing West Road", "南京西路"),
        ("Huaihai Middle Road", "淮海中路"),
        ("Century Avenue", "世纪大道"),
        ("Zhaojiabang Road", "肇嘉浜路"),
        ("Siping Road", "四平路"),
        ("Changning Road", "长宁路"),
        ("Hongqiao Road", "虹桥路"),
        ("Zhangyang Road", "张杨路"),
        ("Xietu Road", "斜土路"),
        ("Yan'an West Road", "延安西路"),
    ),
)

BEIJING = City(
    code="beijing",
    name="Beijing",
    name_zh="北京",
    timezone="Asia/Shanghai",
    center=(39.9042, 116.4074),
    bounds=(39.44, 115.80, 40.40, 117.10),
    districts=(
        District("Wangfujing", "王府井", 39.9110, 116.4100, 1.3, 1.2),
        District("Sanlitun", "三里屯", 39.9366, 116.4550, 1.2, 1.2),
        District("Guomao", "国贸", 39.9087, 116.4600, 1.2, 1.3),
        District("Zhongguancun", "中关村", 39.9837, 116.3160, 1.1, 1.5),
        District("Xidan", "西单", 39.9100, 116.3740, 1.0, 1.2),
        District("Wudaokou", "五道口", 39.9929, 116.3380, 0.7, 1.3),
        District("Wangjing", "望京", 39.9960, 116.4700, 0.8, 1.6),
        District("Chaoyang Park", "朝阳公园", 39.9400, 116.4780, 0.6, 1.5),
        District("Fengtai", "丰台", 39.8585, 116.2870, 0.5, 2.5),
        District("Tongzhou", "通州", 39.9090, 116.6570, 0.4, 2.5),
    ),
    streets=(
        ("Chang'an Avenue", "长安街"),
        ("Jianguomen Outer Street", "建国门外大街"),
        ("Gongti North Road", "工体北路"),
        ("Zhongguancun Street", "中关村大街"),
        ("Xidan North Street", "西单北大街"),
        ("Chengfu Road", "成府路"),
        ("Wangjing Street", "望京街"),
        ("Chaoyang Road", "朝阳路"),
        ("Fengtai Road", "丰台路"),
        ("Xinhua Street", "新华大街"),
    ),
)

CITIES = (SHANGHAI, BEIJING)
